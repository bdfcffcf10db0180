import { crc32, createDeflate, constants } from 'node:zlib';

/**
 * A minimal PNG writer (8-bit RGB, one IDAT) that takes already-filtered scanlines one at a time,
 * so a 4096x4096 image never needs its 48 MB raw buffer in memory: the caller picks each row's
 * PNG filter (an "Up" row equal to the previous one is all zeros and costs nothing), and deflate
 * runs on the zlib thread pool instead of the event loop. pngjs can decode the result.
 */
export interface PngRow {
  /** PNG filter type byte: 0 None, 1 Sub, 2 Up. */
  filter: 0 | 1 | 2;
  /** Filtered bytes, exactly width * 3 long. */
  bytes: Buffer;
}

export interface PngEncodeOptions {
  width: number;
  height: number;
  /** Deflate level; noisy (realistic) images use 1 to stay fast. */
  level?: number;
  /** Run-length strategy: fast for images made of long zero runs. */
  rle?: boolean;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const FLUSH_BYTES = 1 << 20;

export async function encodePng(options: PngEncodeOptions, rowAt: (y: number) => PngRow): Promise<Buffer> {
  const { width, height } = options;
  const deflate = createDeflate({
    level: options.level ?? 6,
    strategy: options.rle ? constants.Z_RLE : constants.Z_DEFAULT_STRATEGY,
    chunkSize: 1 << 20,
  });
  const compressed: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => compressed.push(chunk));
  const finished = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });

  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for (let y = 0; y < height; y += 1) {
    const row = rowAt(y);
    pending.push(Buffer.of(row.filter), row.bytes);
    pendingBytes += 1 + row.bytes.length;
    if (pendingBytes >= FLUSH_BYTES || y === height - 1) {
      const ready = deflate.write(Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
      if (!ready) await new Promise<void>((resolve) => deflate.once('drain', resolve));
    }
  }
  deflate.end();
  await finished;

  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type RGB
  // One copy of the compressed data, straight into the final buffer: at 4K with noise the IDAT is
  // ~18 MB, and concatenating it first would triple the encoder's peak memory.
  return Buffer.concat([SIGNATURE, ...chunk('IHDR', [header]), ...chunk('IDAT', compressed), ...chunk('IEND', [])]);
}

/** A PNG chunk as pieces (length+type, data pieces as given, CRC), without copying the data. */
function chunk(type: string, data: Buffer[]): Buffer[] {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.reduce((sum, piece) => sum + piece.length, 0), 0);
  head.write(type, 4, 'ascii');
  let crc = crc32(head.subarray(4));
  for (const piece of data) crc = crc32(piece, crc);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc >>> 0, 0);
  return [head, ...data, tail];
}
