import { createCipheriv, createHash } from 'node:crypto';
import { decodeSourceImage, type DecodedImage } from './decode-source-image.js';
import { labelBand } from './label-rows.js';
import { encodePng, type PngRow } from './png-encoder.js';

/**
 * Deterministic stand-in images. Same seed material → same bytes; a different prompt → a different
 * grid of colours; with a PNG, JPEG or WebP source image the output is a nearest-neighbour scaled
 * copy of it mixed 3:1 with a prompt-derived tint, so it keeps the source's colours (HEIC and
 * undecodable sources only seed the pattern, see decode-source-image.ts). Default images
 * compress to a few KB even at 4K; `realistic` adds deterministic noise in the low bits so the PNG
 * is about as large as the real service's (~1.7 MB at 1K, ~19 MB at 4K).
 */
export interface RenderImageOptions {
  width: number;
  height: number;
  /** Anything that identifies the request: prompt, model, seed, sizes, input image hashes. */
  seedMaterial: string;
  /** Encoded bytes of the input image to copy (image-to-image), usually the request's first. */
  source?: Buffer;
  realistic?: boolean;
  /** Text drawn across the top (the prompt's first words), so a look tells what the image is for. */
  label?: string;
}

interface Rgb {
  r: number;
  g: number;
  b: number;
}

export async function renderImage(options: RenderImageOptions): Promise<Buffer> {
  const { width, height } = options;
  const digest = createHash('sha256').update(options.seedMaterial).digest();
  const decoded = options.source ? await decodeSourceImage(options.source) : undefined;
  const pictureRow = decoded ? scaledSourceRows(decoded, width, height, tintOf(digest)) : patternRows(digest, width, height);
  const band = options.label === undefined ? undefined : labelBand(options.label, width, height);
  const baseRow: RowSource = band ? (y) => band.row(y) ?? pictureRow(y) : pictureRow;
  const bandHeight = band?.height ?? 0;

  if (!options.realistic) {
    // Rows equal to the previous one are sent as all-zero "Up" rows; deflate shrinks them ~1000x.
    let previousKey = -1;
    const zeros = Buffer.alloc(width * 3);
    return encodePng({ width, height, level: 6, rle: true }, (y) => {
      const { key, bytes } = baseRow(y);
      if (key === previousKey) return { filter: 2, bytes: zeros };
      previousKey = key;
      return { filter: 0, bytes };
    });
  }

  // Realistic payload: a deterministic share of rows is pure noise (incompressible, ~3 bytes a
  // pixel), the rest stay the cheap pattern, so the PNG size tracks the real service's.
  const noise = createCipheriv('aes-128-ctr', digest.subarray(0, 16), digest.subarray(16, 32));
  const share = noiseRowShare(width * height);
  const zeroRow = Buffer.alloc(width * 3);
  let previousKey = -1;
  return encodePng({ width, height, level: 1 }, (y): PngRow => {
    if (y >= bandHeight && Math.floor((y + 1) * share) > Math.floor(y * share)) {
      previousKey = -1;
      return { filter: 0, bytes: noise.update(zeroRow) };
    }
    const { key, bytes } = baseRow(y);
    if (key === previousKey) return { filter: 2, bytes: zeroRow };
    previousKey = key;
    return { filter: 0, bytes };
  });
}

/**
 * Share of rows made of noise so the PNG lands near the real service's size: real PNGs take
 * ~1.7 bytes a pixel at 1K and ~1.1 at 4K, a noise row ~3.
 */
function noiseRowShare(pixels: number): number {
  const targetBytes = 1.75e6 * (pixels / 1_048_576) ** 0.84;
  return Math.min(1, targetBytes / (pixels * 3));
}

type RowSource = (y: number) => { key: number; bytes: Buffer };

/** A grid of coloured cells; rows inside one band are identical (same key). */
function patternRows(digest: Buffer, width: number, height: number): RowSource {
  const columns = 3 + ((digest[0] ?? 0) % 6);
  const bands = 3 + ((digest[1] ?? 0) % 6);
  const palette: Rgb[] = [0, 1, 2, 3, 4].map((index) => ({
    r: digest[2 + index * 3] ?? 0,
    g: digest[3 + index * 3] ?? 0,
    b: digest[4 + index * 3] ?? 0,
  }));
  const cache = new Map<number, Buffer>();
  return (y) => {
    const band = Math.min(bands - 1, Math.floor((y * bands) / height));
    let bytes = cache.get(band);
    if (!bytes) {
      bytes = Buffer.alloc(width * 3);
      for (let x = 0; x < width; x += 1) {
        const column = Math.min(columns - 1, Math.floor((x * columns) / width));
        const colour = palette[((digest[17 + ((band * columns + column) % 15)] ?? 0) + band + column) % palette.length] ?? palette[0]!;
        bytes[x * 3] = colour.r;
        bytes[x * 3 + 1] = colour.g;
        bytes[x * 3 + 2] = colour.b;
      }
      cache.set(band, bytes);
    }
    return { key: band, bytes };
  };
}

function tintOf(digest: Buffer): Rgb {
  return { r: digest[5] ?? 0, g: digest[6] ?? 0, b: digest[7] ?? 0 };
}

/** Nearest-neighbour scaled source, mixed 3:1 with a prompt-derived tint. Keyed by source row. */
function scaledSourceRows(source: DecodedImage, width: number, height: number, tint: Rgb): RowSource {
  let lastKey = -1;
  let lastBytes = Buffer.alloc(0);
  return (y) => {
    const sourceY = Math.min(source.height - 1, Math.floor((y * source.height) / height));
    if (sourceY !== lastKey) {
      const bytes = Buffer.alloc(width * 3);
      for (let x = 0; x < width; x += 1) {
        const sourceX = Math.min(source.width - 1, Math.floor((x * source.width) / width));
        const offset = (sourceY * source.width + sourceX) * 3;
        bytes[x * 3] = mix(source.data[offset] ?? 0, tint.r);
        bytes[x * 3 + 1] = mix(source.data[offset + 1] ?? 0, tint.g);
        bytes[x * 3 + 2] = mix(source.data[offset + 2] ?? 0, tint.b);
      }
      lastKey = sourceY;
      lastBytes = bytes;
    }
    return { key: sourceY, bytes: lastBytes };
  };
}

function mix(value: number, tint: number): number {
  return Math.round((value * 3 + tint) / 4);
}
