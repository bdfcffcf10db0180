/**
 * Files API of the emulator, wire-compatible with generativelanguage.googleapis.com v1beta:
 * - POST /upload/v1beta/files                      resumable start (X-Goog-Upload-Protocol: resumable,
 *   X-Goog-Upload-Command: start) → 200, `x-goog-upload-url` (absolute, `?upload_id=`), status active
 * - POST /upload/v1beta/files?upload_id=ID         chunk: X-Goog-Upload-Command `upload` | `upload, finalize`
 *   | `finalize` | `query` | `cancel`, X-Goog-Upload-Offset = bytes received so far (else 400);
 *   every answer carries `x-goog-upload-status` (active | final | cancelled); the final one `{file}`
 * - GET /v1beta/files/{id}, GET /v1beta/files?pageSize&pageToken → {files?, nextPageToken?},
 *   DELETE /v1beta/files/{id} → {}
 * - GET /v1beta/files/{id}:download?alt=media and GET /download/v1beta/files/{id}:download?alt=media
 *   stream the body from disk.
 * Unknown or expired files → 404 NOT_FOUND; oversize (declared or actual, default 2 GB) → 400.
 * Auth: every route except chunk POSTs calls context.authenticate; as on Google, the upload_id
 * of a started session is itself the credential for its chunks (the cookbook's curl sends no key).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { EmulatorContext } from '../emulator-context.js';
import { GoogleApiError, sendJson } from '../google-error.js';
import type { Route, RouteContext } from '../route.js';
import { fileStoreFor, type FileStore } from './file-store.js';
import { toFileResource } from './file-resource.js';
import { answerGoogleErrors, authenticated } from './google-error-guard.js';
import { listPage } from './list-page.js';
import { readJsonBody } from '../read-body.js';

const FILE_ID = '([a-z0-9][a-z0-9-]{0,63})';
const CHUNK_GRANULARITY = String(8 * 1024 * 1024);
const START_BODY_LIMIT = 1024 * 1024;

export function createFilesRoutes(context: EmulatorContext): Route[] {
  const store = fileStoreFor(context);
  const authed = (handler: (route: RouteContext) => Promise<void>) => authenticated(context, handler);

  const download = authed(async ({ res, params }) => {
    const file = requireFile(store, params[0]);
    res.writeHead(200, {
      'content-type': file.mimeType,
      'content-length': String(file.sizeBytes),
      'content-disposition': `attachment; filename="${file.id}"`,
    });
    await pipeline(store.openBody(file), res);
  });

  return [
    {
      method: 'POST',
      pattern: /^\/upload\/v1beta\/files$/,
      name: 'files.upload',
      handle: (route) =>
        answerGoogleErrors(route.res, async () => {
          const uploadId = route.url.searchParams.get('upload_id');
          if (uploadId === null) {
            context.authenticate(route.req, route.url);
            await startUpload(context, store, route.req, route.res);
          } else {
            await receiveChunk(context, store, uploadId, route.req, route.res);
          }
        }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1beta/files/${FILE_ID}$`),
      name: 'files.get',
      handle: authed(async ({ res, params }) => {
        sendJson(res, 200, toFileResource(requireFile(store, params[0]), context.baseUrl()));
      }),
    },
    {
      method: 'GET',
      pattern: /^\/v1beta\/files$/,
      name: 'files.list',
      handle: authed(async ({ res, url }) => {
        const page = listPage(store.list(), url, 10, 100);
        const body: { files?: unknown[]; nextPageToken?: string } = {};
        // proto3 JSON omits empty repeated fields: an empty list is `{}`.
        if (page.items.length > 0) body.files = page.items.map((file) => toFileResource(file, context.baseUrl()));
        if (page.nextPageToken !== undefined) body.nextPageToken = page.nextPageToken;
        sendJson(res, 200, body);
      }),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/v1beta/files/${FILE_ID}$`),
      name: 'files.delete',
      handle: authed(async ({ res, params }) => {
        const id = params[0] ?? '';
        if (!(await store.delete(id))) throw notFound(id);
        sendJson(res, 200, {});
      }),
    },
    { method: 'GET', pattern: new RegExp(`^/v1beta/files/${FILE_ID}:download$`), name: 'files.download', handle: download },
    {
      method: 'GET',
      pattern: new RegExp(`^/download/v1beta/files/${FILE_ID}:download$`),
      name: 'files.download',
      handle: download,
    },
  ];
}

async function startUpload(context: EmulatorContext, store: FileStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const protocol = header(req, 'x-goog-upload-protocol')?.toLowerCase();
  const command = uploadCommands(req);
  if (protocol !== 'resumable' || !command.has('start')) {
    await readJsonBody(req, START_BODY_LIMIT).catch(() => undefined);
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'Only resumable uploads are supported: send X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.');
  }
  const body = await readJsonBody(req, START_BODY_LIMIT);
  const file = (isRecord(body) && isRecord(body['file']) ? body['file'] : {}) as Record<string, unknown>;
  const declaredHeader = header(req, 'x-goog-upload-header-content-length');
  const declaredSize = declaredHeader === undefined ? undefined : Number(declaredHeader);
  if (declaredSize !== undefined && (!Number.isSafeInteger(declaredSize) || declaredSize < 0)) {
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', `Invalid X-Goog-Upload-Header-Content-Length: ${declaredHeader}`);
  }
  const displayName = stringField(file, 'displayName', 'display_name');
  const mimeType = header(req, 'x-goog-upload-header-content-type') ?? stringField(file, 'mimeType', 'mime_type');
  const uploadId = await store.startUpload({ displayName, mimeType, declaredSize });
  res.writeHead(200, {
    'x-goog-upload-url': `${context.baseUrl()}/upload/v1beta/files?upload_id=${uploadId}&upload_protocol=resumable`,
    'x-goog-upload-status': 'active',
    'x-goog-upload-chunk-granularity': CHUNK_GRANULARITY,
    'x-goog-upload-control-url': `${context.baseUrl()}/upload/v1beta/files?upload_id=${uploadId}&upload_protocol=resumable`,
    'content-length': '0',
  });
  res.end();
}

async function receiveChunk(
  context: EmulatorContext,
  store: FileStore,
  uploadId: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!store.hasUpload(uploadId)) {
    req.resume();
    throw new GoogleApiError(404, 'NOT_FOUND', 'Upload session not found or already finalized.');
  }
  const command = uploadCommands(req);
  if (command.has('cancel')) {
    req.resume();
    await store.cancelUpload(uploadId);
    return sendStatus(res, 'cancelled', {});
  }
  if (command.has('query')) {
    req.resume();
    return sendStatus(res, 'active', {}, { 'x-goog-upload-size-received': String(store.receivedBytes(uploadId)) });
  }
  if (command.has('upload')) {
    const offsetHeader = header(req, 'x-goog-upload-offset');
    const offset = Number(offsetHeader);
    if (offsetHeader === undefined || !Number.isSafeInteger(offset) || offset < 0) {
      req.resume();
      throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'X-Goog-Upload-Offset is required on upload commands.');
    }
    await store.appendChunk(uploadId, offset, req);
  } else {
    req.resume();
  }
  if (command.has('finalize')) {
    const file = await store.finalizeUpload(uploadId);
    return sendStatus(res, 'final', { file: toFileResource(file, context.baseUrl()) });
  }
  if (!command.has('upload')) {
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'Unknown X-Goog-Upload-Command.');
  }
  sendStatus(res, 'active', {}, { 'x-goog-upload-size-received': String(store.receivedBytes(uploadId)) });
}

function sendStatus(res: ServerResponse, status: 'active' | 'final' | 'cancelled', body: unknown, headers: Record<string, string> = {}): void {
  sendJson(res, 200, body, { 'x-goog-upload-status': status, ...headers });
}

function requireFile(store: FileStore, id: string | undefined) {
  const file = id === undefined ? undefined : store.get(id);
  if (!file) throw notFound(id ?? '');
  return file;
}

function notFound(id: string): GoogleApiError {
  return new GoogleApiError(404, 'NOT_FOUND', `File files/${id} not found.`);
}

function uploadCommands(req: IncomingMessage): Set<string> {
  return new Set((header(req, 'x-goog-upload-command') ?? '').split(',').map((part) => part.trim().toLowerCase()).filter(Boolean));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function stringField(record: Record<string, unknown>, camel: string, snake: string): string | undefined {
  const value = record[camel] ?? record[snake];
  return typeof value === 'string' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
