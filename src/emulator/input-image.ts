import { createHash } from 'node:crypto';
import { imageSize as measureImage } from 'image-size';
import { GoogleApiError } from './google-error.js';
import type { LoggedInputImage } from './request-log.js';

/**
 * The input images of one generateContent request, in part order. Parsing yields `ImagePart`s
 * (inline bytes, or a `fileData` URI); preparing turns them into `InputImage`s, which hold the
 * bytes whenever the emulator has them: always for inline data, and for URIs naming one of its
 * own Files API files. URIs it cannot follow (gs://, other hosts) keep no bytes and only seed
 * the output pattern.
 */
export type ImagePart =
  | { via: 'inline'; mimeType: string; bytes: Buffer }
  | { via: 'file'; mimeType: string | undefined; fileUri: string };

export interface InputImage {
  via: 'inline' | 'file';
  /** Declared by the part; for an emulator file without one, the file's own type. */
  mimeType: string | undefined;
  bytes?: Buffer;
  /** Hex sha256 of `bytes`. */
  sha256?: string;
  fileUri?: string;
  /** `files/<id>` when `fileUri` named one of the emulator's files. */
  fileName?: string;
}

export function inlineInputImage(part: { mimeType: string; bytes: Buffer }): InputImage {
  return { via: 'inline', mimeType: part.mimeType, bytes: part.bytes, sha256: sha256Hex(part.bytes) };
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Width and height as a viewer shows the image: JPEG EXIF orientations 5–8 swap them, since the
 * renderer auto-orients the pixels too. Undefined when the bytes are not an image.
 */
export function measureInputImage(bytes: Buffer): { width: number; height: number } | undefined {
  try {
    const size = measureImage(bytes);
    if (!size.width || !size.height) return undefined;
    const rotated = size.orientation !== undefined && size.orientation >= 5;
    return rotated ? { width: size.height, height: size.width } : { width: size.width, height: size.height };
  } catch {
    return undefined;
  }
}

/** What the API answers for bytes that are not a usable image. */
export function unprocessableImage(): GoogleApiError {
  return new GoogleApiError(
    400,
    'INVALID_ARGUMENT',
    'Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  );
}

/** The request log's view: no bytes, just what a test needs to tell the inputs apart. */
export function toLoggedInputImage(image: InputImage): LoggedInputImage {
  return {
    via: image.via,
    ...(image.mimeType === undefined ? {} : { mimeType: image.mimeType }),
    ...(image.sha256 === undefined ? {} : { sha256: image.sha256 }),
    ...(image.bytes === undefined ? {} : { sizeBytes: image.bytes.length }),
    ...(image.fileUri === undefined ? {} : { fileUri: image.fileUri }),
    ...(image.fileName === undefined ? {} : { fileName: image.fileName }),
  };
}
