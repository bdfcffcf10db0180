/**
 * Batch API of the emulator, wire-compatible with generativelanguage.googleapis.com v1beta:
 * - POST   /v1beta/models/{model}:batchGenerateContent  {batch:{displayName, inputConfig}} → Operation
 *          (400 invalid body or inline body over maxInlineBodyBytes, 404 unknown model or input file,
 *          429 RESOURCE_EXHAUSTED when maxActiveBatches are PENDING/RUNNING)
 * - GET    /v1beta/batches/{id}                      → Operation (404 unknown)
 * - GET    /v1beta/batches?pageSize&pageToken        → {operations?, nextPageToken?}, newest first
 * - POST   /v1beta/batches/{id}:cancel               → {}
 * - DELETE /v1beta/batches/{id}                      → {}
 * Scenario knobs and displayName tags: see batch-knobs.ts, batch-scenario.ts, docs/emulator-batch.md.
 */
import type { EmulatorContext } from '../emulator-context.js';
import { GoogleApiError, sendJson } from '../google-error.js';
import type { Route, RouteContext } from '../route.js';
import { fileStoreFor } from '../files/file-store.js';
import { authenticated } from '../files/google-error-guard.js';
import { listPage } from '../files/list-page.js';
import { readJsonBody } from '../read-body.js';
import { modelNotFound } from '../validate-generate-request.js';
import { findImageModel } from '../../gemini/model-catalog.js';
import { parseBatchCreateRequest } from './batch-create-request.js';
import { batchEngineFor } from './batch-engine.js';
import { operationListSegments, operationSegments, sendOperationSegments } from './batch-operation.js';

const BATCH_ID = '([a-z0-9][a-z0-9-]*)';

export function createBatchRoutes(context: EmulatorContext): Route[] {
  const engine = batchEngineFor(context);

  const authed = (handler: (route: RouteContext) => Promise<void>) => authenticated(context, handler);

  const notFound = (id: string | undefined): GoogleApiError =>
    new GoogleApiError(404, 'NOT_FOUND', `Batch batches/${id ?? ''} not found.`);

  return [
    {
      method: 'POST',
      pattern: /^\/v1beta\/models\/([^/]+):batchGenerateContent$/,
      name: 'batchGenerateContent',
      handle: authed(async ({ req, res, params }) => {
        const model = decodeURIComponent(params[0] ?? '').replace(/^models\//, '');
        const body = await readJsonBody(req, context.batch.maxInlineBodyBytes);
        if (!findImageModel(model)) throw modelNotFound(model, 'v1beta', 'batchGenerateContent');
        const job = await engine.create(model, parseBatchCreateRequest(body));
        if (job.scenario.resetAfterCreate) {
          // The batch exists upstream, but the caller never learns its name: a TCP reset instead of the answer.
          req.socket.resetAndDestroy();
          return;
        }
        await sendOperationSegments(res, operationSegments(job, context.now()));
      }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1beta/batches/${BATCH_ID}$`),
      name: 'batches.get',
      handle: authed(async ({ res, params }) => {
        const job = engine.get(params[0] ?? '');
        if (!job) throw notFound(params[0]);
        await sendOperationSegments(res, operationSegments(job, context.now()));
      }),
    },
    {
      method: 'GET',
      pattern: /^\/v1beta\/batches$/,
      name: 'batches.list',
      handle: authed(async ({ res, url }) => {
        const page = listPage(engine.list(), url, 50, 1000);
        await sendOperationSegments(res, operationListSegments(page.items, context.now(), page.nextPageToken));
      }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1beta/batches/${BATCH_ID}:cancel$`),
      name: 'batches.cancel',
      handle: authed(async ({ req, res, params }) => {
        await readJsonBody(req, 1024 * 1024);
        if (!(await engine.cancel(params[0] ?? ''))) throw notFound(params[0]);
        sendJson(res, 200, {});
      }),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/v1beta/batches/${BATCH_ID}$`),
      name: 'batches.delete',
      handle: authed(async ({ res, params }) => {
        if (!(await engine.delete(params[0] ?? ''))) throw notFound(params[0]);
        sendJson(res, 200, {});
      }),
    },
  ];
}

/** Stops the batch loop and releases open upload/result files of this emulator. Idempotent. */
export async function closeFilesAndBatches(context: EmulatorContext): Promise<void> {
  await batchEngineFor(context).close();
  await fileStoreFor(context).close();
}
