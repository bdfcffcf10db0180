import { DEFAULT_ASPECT_RATIO } from '../gemini/model-catalog.js';
import { closestAspectRatio } from './closest-aspect-ratio.js';
import type { InputFileResolver } from './files/input-file-resolver.js';
import { GoogleApiError } from './google-error.js';
import { inlineInputImage, measureInputImage, sha256Hex, toLoggedInputImage, unprocessableImage, type ImagePart, type InputImage } from './input-image.js';
import { checkReferenceImageLimit } from './reference-image-limit.js';
import type { LoggedInputImage } from './request-log.js';
import { validateGenerateRequest, type ParsedGenerateRequest } from './validate-generate-request.js';

/**
 * From a raw GenerateContentRequest to what the engine answers, in two steps:
 * - `checkGenerateRequest` (synchronous): validation, then the model's reference-image limit,
 *   before any file is read;
 * - `completeGenerateRequest` (reads files): each fileData URI naming one of the emulator's own
 *   files is read like inline data, then the default aspect ratio (the first input image's shape).
 * The engine draws its random latency and fault between the two, so the draw order stays the
 * arrival order even when file reads finish out of order. A failure after parsing still reports
 * the input images seen so far, so the request log shows them next to the 400/403.
 */
export type ValidatedGenerateRequest = Omit<ParsedGenerateRequest, 'imageParts' | 'requestedAspectRatio'> & {
  aspectRatio: string;
  /** Every input image in part order; `bytes` when the emulator holds them (see input-image.ts). */
  inputImages: InputImage[];
};

export interface PrepareFailure {
  ok: false;
  error: GoogleApiError;
  model?: string;
  promptHash?: string;
  inputImages?: LoggedInputImage[];
}

export type CheckedRequest = { ok: true; parsed: ParsedGenerateRequest } | PrepareFailure;
export type PreparedRequest = { ok: true; request: ValidatedGenerateRequest } | PrepareFailure;

export function checkGenerateRequest(modelName: string, body: unknown, apiVersion?: string): CheckedRequest {
  let parsed: ParsedGenerateRequest;
  try {
    parsed = validateGenerateRequest(modelName, body, apiVersion);
  } catch (error) {
    if (error instanceof GoogleApiError) return { ok: false, error };
    throw error;
  }
  try {
    checkReferenceImageLimit(parsed.model, parsed.imageParts.length);
  } catch (error) {
    if (error instanceof GoogleApiError) return failure(parsed, error, parsed.imageParts.map(unresolved));
    throw error;
  }
  return { ok: true, parsed };
}

/** `files` follows fileData URIs into the emulator's Files API; without it every URI is seed only. */
export async function completeGenerateRequest(parsed: ParsedGenerateRequest, files: InputFileResolver | undefined): Promise<PreparedRequest> {
  const inputImages = parsed.imageParts.map(unresolved);
  try {
    for (const [index, part] of parsed.imageParts.entries()) {
      if (part.via === 'file' && files) inputImages[index] = await resolveFile(part, files);
    }
  } catch (error) {
    if (error instanceof GoogleApiError) return failure(parsed, error, inputImages);
    throw error;
  }
  const { imageParts: _parts, requestedAspectRatio, ...rest } = parsed;
  const first = inputImages.find((image) => image.bytes !== undefined)?.bytes;
  const firstSize = first === undefined ? undefined : measureInputImage(first);
  const aspectRatio = requestedAspectRatio ?? (firstSize ? closestAspectRatio(parsed.model, firstSize) : DEFAULT_ASPECT_RATIO);
  return { ok: true, request: { ...rest, aspectRatio, inputImages } };
}

function failure(parsed: ParsedGenerateRequest, error: GoogleApiError, inputImages: InputImage[]): PrepareFailure {
  return { ok: false, error, model: parsed.model.id, promptHash: parsed.promptHash, inputImages: inputImages.map(toLoggedInputImage) };
}

function unresolved(part: ImagePart): InputImage {
  return part.via === 'inline' ? inlineInputImage(part) : { via: 'file', mimeType: part.mimeType, fileUri: part.fileUri };
}

async function resolveFile(part: Extract<ImagePart, { via: 'file' }>, files: InputFileResolver): Promise<InputImage> {
  const file = await files.resolve(part.fileUri);
  if (!file) return unresolved(part);
  // The same check inline data gets: an uploaded JSONL or PDF is no input image.
  if (!measureInputImage(file.bytes)) throw unprocessableImage();
  return {
    via: 'file',
    mimeType: part.mimeType ?? file.mimeType,
    bytes: file.bytes,
    sha256: sha256Hex(file.bytes),
    fileUri: part.fileUri,
    fileName: file.name,
  };
}
