/**
 * The Files API resumable upload protocol:
 *   1. `POST /upload/{apiVersion}/files` with `X-Goog-Upload-Protocol: resumable`,
 *      `X-Goog-Upload-Command: start`, `X-Goog-Upload-Header-Content-Length/-Content-Type`, body
 *      `{"file":{"displayName"}}` → header `x-goog-upload-url` (absolute, carries `upload_id`).
 *   2. `POST <upload-url>` per chunk with `X-Goog-Upload-Command: upload` and
 *      `X-Goog-Upload-Offset: <byte offset>` → `x-goog-upload-status: active`;
 *      the last chunk says `upload, finalize` → `x-goog-upload-status: final`, body `{"file":{File}}`.
 * The file is read chunk by chunk, so a 2 GB shard never sits in memory. No resume-after-failure
 * (`query` command) yet: a failed upload is restarted from the top by the caller.
 */
import { open, stat } from 'node:fs/promises';
import { BunchError } from '../errors/bunch-error.js';
import type { CallOptions, GeminiTransport } from './gemini-transport.js';

export interface UploadOptions {
  mimeType: string;
  displayName?: string;
  /** Default 8 MiB, as the SDK and the cookbook use. */
  chunkBytes?: number;
  /** Deadline per HTTP call (the start and each chunk). Default 120 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A Files API File resource (fields the API may add are kept). */
export interface GeminiFile {
  name: string;
  displayName?: string;
  mimeType?: string;
  sizeBytes?: string;
  uri?: string;
  state?: string;
  [field: string]: unknown;
}

const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 120_000;

export async function uploadResumable(
  transport: GeminiTransport,
  apiVersion: string,
  filePath: string,
  options: UploadOptions,
): Promise<GeminiFile> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes <= 0) throw new RangeError('chunkBytes must be a positive integer');
  const call: CallOptions = { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  if (options.signal) call.signal = options.signal;
  const size = (await stat(filePath)).size;

  const file: Record<string, unknown> = {};
  if (options.displayName !== undefined) file.displayName = options.displayName;
  const start = await transport.exchange(
    {
      method: 'POST',
      url: transport.url(`/upload/${apiVersion}/files`),
      headers: {
        'content-type': 'application/json',
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': String(size),
        'x-goog-upload-header-content-type': options.mimeType,
      },
      body: JSON.stringify({ file }),
    },
    call,
    async (response) => {
      await response.body?.cancel();
    },
  );
  const uploadUrl = rebaseUploadUrl(start.response.headers.get('x-goog-upload-url'), transport.origin);

  const handle = await open(filePath, 'r');
  try {
    for (let offset = 0; ; ) {
      const length = Math.min(chunkBytes, size - offset);
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await handle.read(chunk, 0, length, offset);
      if (bytesRead !== length) throw new BunchError('E_INTERNAL', 'file changed size during upload');
      const last = offset + length >= size;
      const { value, response } = await transport.exchange(
        {
          method: 'POST',
          url: uploadUrl,
          headers: { 'x-goog-upload-command': last ? 'upload, finalize' : 'upload', 'x-goog-upload-offset': String(offset) },
          body: chunk,
        },
        call,
        transport.readJson,
      );
      const status = response.headers.get('x-goog-upload-status');
      if (last) {
        const uploaded = (value as { file?: unknown } | undefined)?.file;
        if (status !== 'final' || !isGeminiFile(uploaded)) {
          throw new BunchError('E_MALFORMED_RESPONSE', `upload did not finalize (x-goog-upload-status: ${status ?? 'missing'})`);
        }
        return uploaded;
      }
      if (status !== 'active') {
        throw new BunchError('E_UPSTREAM', `upload stopped at byte ${offset} (x-goog-upload-status: ${status ?? 'missing'})`);
      }
      offset += length;
    }
  } finally {
    await handle.close();
  }
}

/** The server's upload URL re-rooted on our configured origin, so the key never goes elsewhere. */
function rebaseUploadUrl(header: string | null, origin: string): string {
  if (!header) throw new BunchError('E_MALFORMED_RESPONSE', 'resumable upload start returned no x-goog-upload-url');
  let returned: URL;
  try {
    returned = new URL(header, origin);
  } catch {
    throw new BunchError('E_MALFORMED_RESPONSE', 'resumable upload start returned an invalid x-goog-upload-url');
  }
  return origin + returned.pathname + returned.search;
}

function isGeminiFile(value: unknown): value is GeminiFile {
  return value !== null && typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string';
}
