import { createHash } from 'node:crypto';
import { imageSize } from 'image-size';
import { BunchError } from '../errors/bunch-error.js';
import { decodedStrictly, paddingOf } from './strict-base64.js';

/**
 * Turns an inline image part of a Gemini answer into checked bytes. The model's word is not taken
 * for anything: the base64 must be strictly valid (Buffer.from skips garbage silently), the magic
 * bytes must agree with the declared mimeType and the file must be complete (else E_BAD_IMAGE).
 * The pixel size is compared with what the request asked for; a difference is reported as a
 * warning, never a failure: the image was paid for and may well be usable.
 */
export type ImageMimeType = 'image/png' | 'image/jpeg' | 'image/webp';
export type ImageExt = 'png' | 'jpg' | 'webp';

export interface DecodedImage {
  bytes: Buffer;
  mimeType: ImageMimeType;
  ext: ImageExt;
  width: number;
  height: number;
  /** Lowercase hex SHA-256 of `bytes`. */
  sha256: string;
  byteLength: number;
  /** Set when the size is further from the requested one than the tolerance allows. */
  sizeWarning?: string;
}

export interface ImageDimensions {
  width: number;
  height: number;
}

const FORMATS: Record<ImageMimeType, { ext: ImageExt; sizeType: string }> = {
  'image/png': { ext: 'png', sizeType: 'png' },
  'image/jpeg': { ext: 'jpg', sizeType: 'jpg' },
  'image/webp': { ext: 'webp', sizeType: 'webp' },
};

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_IEND = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const JPEG_EOI_WINDOW = 32;

/**
 * How far a side may be from the model table's size. Part of the table is inferred (the docs
 * print a few sizes that cannot be right), so a near miss is the model's real size, not damage.
 */
const SIZE_TOLERANCE = 0.05;

function closeTo(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= expected * SIZE_TOLERANCE;
}

/**
 * The answer's image is unusable. Retryable, but the sync lane pays for it at most twice: the
 * second answer to the same request is rarely better than the first.
 */
function malformed(message: string, cause?: unknown): BunchError {
  return new BunchError('E_BAD_IMAGE', message, { retryable: true, ...(cause === undefined ? {} : { cause }) });
}

/** Aspect ratios closer than this are the same ratio (1344x768 vs 16:9 is 1.75 vs 1.78). */
const ASPECT_TOLERANCE = 0.03;

/** What is off about a size: the aspect ratio, the size class (longest side), or both. */
export function describeSizeMismatch(actual: ImageDimensions, expected: ImageDimensions): string {
  const ratio = (d: ImageDimensions) => d.width / d.height;
  const aspectOff = Math.abs(ratio(actual) / ratio(expected) - 1) > ASPECT_TOLERANCE;
  const longest = (d: ImageDimensions) => Math.max(d.width, d.height);
  const scale = longest(actual) / longest(expected);
  const parts: string[] = [];
  if (aspectOff) parts.push(`aspect ratio ${ratio(actual).toFixed(3)} instead of ${ratio(expected).toFixed(3)}`);
  if (Math.abs(scale - 1) > SIZE_TOLERANCE) parts.push(`${scale > 1 ? 'larger' : 'smaller'} size class (longest side ${longest(actual)} instead of ${longest(expected)})`);
  const what = parts.length > 0 ? parts.join(', ') : `more than ${SIZE_TOLERANCE * 100}% off on a side`;
  return `image is ${actual.width}x${actual.height}, expected ${expected.width}x${expected.height}: ${what}`;
}

function normalizeMimeType(declared: string): ImageMimeType {
  const type = declared.split(';')[0]?.trim().toLowerCase() ?? '';
  const canonical = type === 'image/jpg' ? 'image/jpeg' : type;
  if (canonical === 'image/png' || canonical === 'image/jpeg' || canonical === 'image/webp') return canonical;
  throw malformed(`unsupported image mimeType "${declared.slice(0, 60)}"`);
}

export function decodeBase64Strict(base64: string): Buffer {
  if (base64.length === 0) throw malformed('image data is empty');
  // Standard alphabet with padding, as proto3 JSON writes bytes.
  const bytes = base64.length % 4 === 0 ? Buffer.from(base64, 'base64') : undefined;
  if (!bytes || !decodedStrictly(base64, bytes.length, paddingOf(base64))) throw malformed('image data is not valid base64');
  return bytes;
}

/** The format the bytes say they are, from their magic numbers. */
export function sniffImageType(bytes: Buffer): ImageMimeType | undefined {
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') {
    return 'image/webp';
  }
  return undefined;
}

/** Cheap completeness checks: a cut-off body still has valid headers, so image-size alone misses it. */
function assertComplete(bytes: Buffer, type: ImageMimeType): void {
  switch (type) {
    case 'image/png':
      if (bytes.length < PNG_IEND.length + 8 || !bytes.subarray(bytes.length - PNG_IEND.length).equals(PNG_IEND)) {
        throw malformed('PNG is truncated (no IEND chunk at the end)');
      }
      return;
    case 'image/jpeg': {
      // The EOI marker ends the file; encoders may pad a few bytes after it.
      const tail = bytes.subarray(Math.max(0, bytes.length - JPEG_EOI_WINDOW));
      if (tail.indexOf(Buffer.from([0xff, 0xd9])) === -1) throw malformed('JPEG is truncated (no EOI marker)');
      return;
    }
    case 'image/webp': {
      const riffSize = bytes.length >= 8 ? bytes.readUInt32LE(4) : -1;
      if (riffSize + 8 > bytes.length) throw malformed('WebP is truncated (RIFF size exceeds the data)');
      return;
    }
    default: {
      const unreachable: never = type;
      throw malformed(`unsupported image type ${String(unreachable)}`);
    }
  }
}

/** An image part: its base64, or (decoded while the answer streamed in) its bytes or why they could not be decoded. */
export interface ImagePart {
  mimeType: string;
  base64: string;
  bytes?: Buffer;
  problem?: string;
}

export function decodeImage(part: ImagePart, expected?: ImageDimensions): DecodedImage {
  const mimeType = normalizeMimeType(part.mimeType);
  if (part.problem !== undefined) throw malformed(part.problem);
  const bytes = part.bytes ?? decodeBase64Strict(part.base64);
  const sniffed = sniffImageType(bytes);
  if (sniffed !== mimeType) {
    throw malformed(`image declared as ${mimeType} but its bytes are ${sniffed ?? 'not a known image format'}`);
  }
  assertComplete(bytes, mimeType);

  let size: { width: number; height: number; type?: string };
  try {
    size = imageSize(bytes);
  } catch (error) {
    throw malformed(`cannot read ${mimeType} dimensions: ${(error as Error).message}`, error);
  }
  const format = FORMATS[mimeType];
  if (size.type !== format.sizeType || !(size.width > 0) || !(size.height > 0)) {
    throw malformed(`cannot read ${mimeType} dimensions (got ${size.type ?? 'unknown'} ${size.width}x${size.height})`);
  }
  // The model gives the same request the same size, so a retry would pay again for the same
  // answer (and one wrong entry in the size table would fail every item): keep it, and say so.
  const sizeOff = expected && (!closeTo(size.width, expected.width) || !closeTo(size.height, expected.height));
  return {
    bytes,
    mimeType,
    ext: format.ext,
    width: size.width,
    height: size.height,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    byteLength: bytes.length,
    ...(sizeOff && expected ? { sizeWarning: describeSizeMismatch(size, expected) } : {}),
  };
}
