import { imageSize } from 'image-size';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { BunchError } from '../errors/bunch-error.js';
import type { ReferenceFailureReason } from './reference-fetch-options.js';
import { describeUnknownBytes, sniffImageType, type SniffedImageType } from './sniff-image-type.js';

/**
 * Turns the bytes of a reference image into something Gemini accepts (PNG, JPEG, WebP, HEIC,
 * HEIF), no larger than the model can use, upright, and without camera metadata (EXIF GPS, XMP,
 * IPTC) that has no business leaving the catalog owner's hands. The result's bytes feed the
 * content hash of the reference and so the inputHash of every item that uses it: the common case
 * (already small, upright and clean) keeps the original bytes, so the hash does not move when
 * sharp or libvips is upgraded.
 */
export interface NormalizeOptions {
  /** Longest side in pixels the image is scaled down to (never up); undefined = keep size. */
  longestSide: number | undefined;
  /** Decompression-bomb guard: images with more input pixels are refused (sharp limitInputPixels). Default 100 megapixels. */
  maxInputPixels?: number;
}

export interface NormalizedReference {
  bytes: Buffer;
  mimeType: 'image/png' | 'image/jpeg' | 'image/webp' | 'image/heic' | 'image/heif';
  width: number;
  height: number;
  /** False when `bytes` are the input bytes, untouched. */
  transformed: boolean;
}

export const DEFAULT_MAX_INPUT_PIXELS = 100_000_000;

const ACCEPTED = 'accepted types are PNG, JPEG, WebP, HEIC/HEIF, and GIF or AVIF (converted to PNG)';

type EncodedType = 'image/png' | 'image/jpeg' | 'image/webp';

const FORMAT_NAME: Record<SniffedImageType, string> = {
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/webp': 'WebP',
  'image/heic': 'HEIC',
  'image/heif': 'HEIF',
  'image/gif': 'GIF',
  'image/avif': 'AVIF',
};

export async function normalizeReference(bytes: Buffer, options: NormalizeOptions): Promise<NormalizedReference> {
  const { longestSide } = options;
  const maxInputPixels = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  if (longestSide !== undefined && !(Number.isInteger(longestSide) && longestSide > 0)) {
    throw new BunchError('E_INTERNAL', `normalizeReference: longestSide must be a positive integer, got ${longestSide}`);
  }
  if (!(Number.isInteger(maxInputPixels) && maxInputPixels > 0)) {
    throw new BunchError('E_INTERNAL', `normalizeReference: maxInputPixels must be a positive integer, got ${maxInputPixels}`);
  }

  const type = sniffImageType(bytes);
  switch (type) {
    case undefined:
      throw refused('unsupported-type', `unsupported image type: ${describeUnknownBytes(bytes)}; ${ACCEPTED}`);
    case 'image/heic':
    case 'image/heif':
      return passThroughHeif(bytes, type, maxInputPixels);
    case 'image/gif':
    case 'image/avif':
      // Gemini takes neither; PNG keeps every pixel of the first GIF frame and of the AVIF.
      return reencode(bytes, type, 'image/png', await readMetadata(bytes, type, maxInputPixels), longestSide, maxInputPixels);
    case 'image/png':
    case 'image/jpeg':
    case 'image/webp': {
      const metadata = await readMetadata(bytes, type, maxInputPixels);
      if (!needsTransform(metadata, longestSide)) {
        // Metadata reads only the header: decode everything once so a truncated file is refused
        // here rather than by Gemini on every item that uses it.
        await decodeFully(bytes, type, maxInputPixels);
        return { bytes, mimeType: type, width: metadata.width, height: metadata.height, transformed: false };
      }
      return reencode(bytes, type, type, metadata, longestSide, maxInputPixels);
    }
  }
}

/**
 * Whether the original bytes can be sent as they are (one frame). An ICC profile alone may stay (it is colour,
 * not personal data); CMYK JPEGs (common in print catalogs) are converted because decoders differ
 * on how they show them, and sharp's re-encode writes sRGB.
 */
function needsTransform(metadata: Metadata, longestSide: number | undefined): boolean {
  // An animated WebP is sent as its first frame, like a GIF: the model is asked about one picture.
  if ((metadata.pages ?? 1) > 1) return true;
  if (longestSide !== undefined && Math.max(metadata.width, metadata.height) > longestSide) return true;
  if (metadata.orientation !== undefined && metadata.orientation !== 1) return true;
  if (metadata.exif !== undefined || metadata.xmp !== undefined || metadata.iptc !== undefined) return true;
  return metadata.space === 'cmyk';
}

/**
 * Header only: no pixels are decoded, so the pixel limit is checked here by us (with the sizes in
 * the message) and sharp's own `limitInputPixels` stays on for the decode as a second guard.
 */
async function readMetadata(bytes: Buffer, type: SniffedImageType, maxInputPixels: number): Promise<Metadata> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch (error) {
    throw decodeFailure(type, error, maxInputPixels);
  }
  checkPixels(metadata.width, metadata.height, type, maxInputPixels);
  return metadata;
}

async function decodeFully(bytes: Buffer, type: SniffedImageType, maxInputPixels: number): Promise<void> {
  try {
    // stats() pulls every pixel through libvips' streaming pipeline without holding the image.
    await sharp(bytes, { failOn: 'error', limitInputPixels: maxInputPixels }).stats();
  } catch (error) {
    throw decodeFailure(type, error, maxInputPixels);
  }
}

/**
 * Upright (EXIF orientation applied), scaled down to fit `longestSide` when needed, and encoded
 * without metadata (sharp writes none unless asked to). Encoder settings are fixed so the same
 * input gives the same bytes: JPEG without mozjpeg's trellis search, PNG at a fixed zlib level.
 * GIF and WebP inputs yield their first frame only (sharp reads one page by default).
 */
async function reencode(
  bytes: Buffer,
  from: SniffedImageType,
  to: EncodedType,
  metadata: Metadata,
  longestSide: number | undefined,
  maxInputPixels: number,
): Promise<NormalizedReference> {
  let pipeline: Sharp = sharp(bytes, { failOn: 'error', limitInputPixels: maxInputPixels }).autoOrient();
  if (longestSide !== undefined && Math.max(metadata.width, metadata.height) > longestSide) {
    pipeline = pipeline.resize({ width: longestSide, height: longestSide, fit: 'inside', withoutEnlargement: true });
  }
  switch (to) {
    case 'image/jpeg':
      pipeline = pipeline.jpeg({ quality: 90, mozjpeg: false });
      break;
    case 'image/png':
      pipeline = pipeline.png({ compressionLevel: 9 });
      break;
    case 'image/webp':
      pipeline = pipeline.webp({ quality: 90 });
      break;
  }
  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return { bytes: data, mimeType: to, width: info.width, height: info.height, transformed: true };
  } catch (error) {
    throw decodeFailure(from, error, maxInputPixels);
  }
}

/**
 * The prebuilt sharp decodes only the AV1 flavour of HEIF (`sharp.format.heif` lists `.avif`), not
 * HEVC, so HEIC/HEIF is sent as it came: Gemini reads it. That means it cannot be scaled down,
 * turned upright, or stripped of metadata here, even when larger than `longestSide`. We do not use
 * a system libvips that might decode HEVC: the same reference would then hash differently on
 * different machines. Sizes come from the container's `ispe` boxes (no decode).
 */
function passThroughHeif(bytes: Buffer, type: 'image/heic' | 'image/heif', maxInputPixels: number): NormalizedReference {
  let size;
  try {
    size = imageSize(bytes);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw refused('undecodable', `${FORMAT_NAME[type]} image is corrupt or incomplete: its dimensions cannot be read (${detail})`, error);
  }
  // A HEIC from a phone is a grid of tiles plus a thumbnail, each with its own size; the primary
  // image is the largest of them.
  const largest = (size.images ?? [size]).reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a), size);
  if (!(largest.width > 0 && largest.height > 0)) {
    throw refused('undecodable', `${FORMAT_NAME[type]} image is corrupt: it declares a size of ${largest.width}x${largest.height}`);
  }
  checkPixels(largest.width, largest.height, type, maxInputPixels);
  return { bytes, mimeType: type, width: largest.width, height: largest.height, transformed: false };
}

function checkPixels(width: number, height: number, type: SniffedImageType, maxInputPixels: number): void {
  if (width * height > maxInputPixels) {
    throw refused(
      'too-many-pixels',
      `${FORMAT_NAME[type]} image is ${width}x${height} (${megapixels(width * height)} megapixels), ` +
        `more than the limit of ${megapixels(maxInputPixels)} megapixels; refused as a possible decompression bomb`,
    );
  }
}

function decodeFailure(type: SniffedImageType, error: unknown, maxInputPixels: number): BunchError {
  const detail = error instanceof Error ? error.message : String(error);
  if (/exceeds pixel limit/i.test(detail)) {
    return refused('too-many-pixels', `${FORMAT_NAME[type]} image has more than the limit of ${megapixels(maxInputPixels)} megapixels`, error);
  }
  return refused('undecodable', `${FORMAT_NAME[type]} image cannot be decoded, the file is truncated or corrupt (${detail.trim()})`, error);
}

function megapixels(pixels: number): string {
  return String(Math.round(pixels / 100_000) / 10);
}

function refused(reason: ReferenceFailureReason, message: string, cause?: unknown): BunchError {
  return new BunchError('E_REFERENCE', message, cause === undefined ? { reason } : { reason, cause });
}
