/**
 * Planned requests (in BullMQ job data, batch shards and the inputHash) name each reference image
 * by a placeholder part `{fileData: {mimeType, fileUri: "bunch-ref:<sha256>"}}` instead of its
 * bytes. Just before sending, the sync lane swaps each for `inlineData` read from storage and the
 * batch lane for the Files API URI of its upload. The placeholder carries the content hash, so
 * the inputHash covers the image bytes and not the URL they came from.
 */
import type { FileDataPart, GenerateContentRequest, RequestPart } from '../gemini/generate-content-request.js';

export const REFERENCE_URI_SCHEME = 'bunch-ref:';

export function referencePlaceholder(sha256: string, mimeType: string): FileDataPart {
  return { fileData: { mimeType, fileUri: `${REFERENCE_URI_SCHEME}${sha256}` } };
}

/** The sha256 a placeholder part names, or undefined for any other part. */
export function placeholderSha256(part: unknown): string | undefined {
  if (part === null || typeof part !== 'object') return undefined;
  const fileData = (part as { fileData?: { fileUri?: unknown } }).fileData;
  const uri = fileData?.fileUri;
  if (typeof uri !== 'string' || !uri.startsWith(REFERENCE_URI_SCHEME)) return undefined;
  const sha = uri.slice(REFERENCE_URI_SCHEME.length);
  return /^[0-9a-f]{64}$/.test(sha) ? sha : undefined;
}

/** Returns a copy of the request with every placeholder part replaced by what `swap` makes of it. */
export async function replacePlaceholders(
  request: GenerateContentRequest,
  swap: (sha256: string, mimeType: string) => Promise<RequestPart>,
): Promise<GenerateContentRequest> {
  const contents = await Promise.all(
    request.contents.map(async (content) => ({
      ...content,
      parts: await Promise.all(
        content.parts.map(async (part) => {
          const sha = placeholderSha256(part);
          if (sha === undefined) return part;
          return swap(sha, (part as FileDataPart).fileData.mimeType ?? 'application/octet-stream');
        }),
      ),
    })),
  );
  return { ...request, contents };
}
