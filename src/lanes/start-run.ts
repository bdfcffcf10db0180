import type { Logger } from 'pino';
import { readCatalog } from '../catalog/read-catalog.js';
import { BunchError } from '../errors/bunch-error.js';
import type { ManifestRejectedLine } from '../manifest/manifest-line.js';
import type { RowRejection } from '../catalog/catalog-event.js';
import { recordFromMarker, readStoredOutput } from '../outputs/store-item-output.js';
import { planItems } from '../plan/plan-items.js';
import type { PlannedItem } from '../plan/planned-item.js';
import { newRunId } from '../runs/run-id.js';
import { runConfigFromJob } from '../runs/run-config-from-job.js';
import { runObjectKeys } from '../runs/run-keys.js';
import type { RunStore } from '../runs/run-store.js';
import type { ResolvedJob } from '../spec/resolved-job.js';
import { recordItem } from './record-item.js';
import type { ObjectStoreOpener } from './run-context-cache.js';
import type { GenerateJobData } from './sync/generate-job-data.js';
import { generateJobId } from './sync/generate-job-data.js';
import { requestFinalize, type SyncQueues } from './sync/sync-queues.js';

export interface StartRunDeps {
  runs: RunStore;
  queues: SyncQueues;
  openStore: ObjectStoreOpener;
  logger: Logger;
}

export interface StartedRun {
  runId: string;
  outputUrl: string;
  items: number;
  enqueued: number;
  skipped: number;
  rejected: number;
}

/** Items are checked against storage and enqueued in chunks this big (one addBulk each). */
const CHUNK = 250;

/**
 * Starts a run: streams the catalog through planning, records items whose outputs already exist
 * in storage as `skipped` (nothing to pay for), enqueues the rest with deterministic job ids,
 * lists rejected rows, and marks the run planned. Workers may start on the first chunk while the
 * catalog is still being read.
 */
export async function startRun(job: ResolvedJob, deps: StartRunDeps, options: { runId?: string } = {}): Promise<StartedRun> {
  if (job.strict) await assertNoRejectedRows(job);
  const runId = options.runId ?? newRunId(job.name);
  const config = runConfigFromJob(job, runId, new Date());
  const store = deps.openStore(config.outputUrl);
  const { runs, queues } = deps;
  const onRunComplete = (id: string) => requestFinalize(queues.finalize, id);

  await runs.createRun(config);
  if (config.sync.requestsPerMinute !== undefined) {
    // Queue-wide: the quota belongs to the API key, which every run on this queue shares.
    await queues.generate.setGlobalRateLimit(config.sync.requestsPerMinute, 60_000);
  }
  if (config.sync.globalConcurrency !== undefined) await queues.generate.setGlobalConcurrency(config.sync.globalConcurrency);
  await runs.setStatus(runId, 'running');

  const rejections: ManifestRejectedLine[] = [];
  let chunk: PlannedItem[] = [];
  let items = 0;
  let enqueued = 0;
  let skipped = 0;

  const flush = async () => {
    if (chunk.length === 0) return;
    const current = chunk;
    chunk = [];
    const stored = await Promise.all(current.map((item) => readStoredOutput(store, item)));
    const toEnqueue: PlannedItem[] = [];
    for (const [i, item] of current.entries()) {
      const marker = stored[i];
      if (marker) {
        await recordItem(runs, store, runId, recordFromMarker(item, marker, 'skipped', 'sync', 0), onRunComplete);
        skipped += 1;
      } else {
        toEnqueue.push(item);
      }
    }
    if (toEnqueue.length > 0) {
      await queues.generate.addBulk(
        toEnqueue.map((item) => ({
          name: 'generate',
          data: jobData(runId, item, config.sync.backoff),
          opts: {
            jobId: generateJobId(runId, item.index),
            attempts: config.sync.attempts,
            backoff: { type: 'bunch' },
            removeOnComplete: true,
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        })),
      );
      enqueued += toEnqueue.length;
    }
  };

  for await (const event of planItems(job, readCatalog(job))) {
    if (event.kind === 'rejected') {
      rejections.push(rejectedLine(runId, event.rejection));
      continue;
    }
    items += 1;
    chunk.push(event.item);
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();

  if (rejections.length > 0) {
    const body = rejections.map((line) => JSON.stringify(line)).join('\n') + '\n';
    await store.put(runObjectKeys(runId).rejected, body, { contentType: 'application/x-ndjson' });
  }
  if (await runs.markPlanned(runId, items, rejections.length)) await onRunComplete(runId);
  deps.logger.info({ runId, items, enqueued, skipped, rejected: rejections.length }, 'run planned');
  return { runId, outputUrl: config.outputUrl, items, enqueued, skipped, rejected: rejections.length };
}

function jobData(runId: string, item: PlannedItem, backoff: GenerateJobData['backoff']): GenerateJobData {
  const data: GenerateJobData = {
    runId,
    index: item.index,
    itemKey: item.itemKey,
    rowKey: item.rowKey,
    variant: item.variant,
    rowNumber: item.rowNumber,
    model: item.model,
    inputHash: item.inputHash,
    objectKey: item.objectKey,
    captionKey: item.captionKey,
    markerKey: item.markerKey,
    request: item.request as unknown as Record<string, unknown>,
    backoff,
  };
  if (item.expected) data.expected = { ...item.expected };
  return data;
}

export function rejectedLine(runId: string, rejection: RowRejection): ManifestRejectedLine {
  const line: ManifestRejectedLine = {
    schemaVersion: 1,
    runId,
    status: 'rejected',
    rowNumber: rejection.rowNumber,
    line: rejection.line,
    file: rejection.file,
    errorCode: 'E_CATALOG_ROW',
    errorMessage: rejection.reason,
  };
  if (rejection.key !== undefined) line.key = rejection.key;
  if (rejection.field !== undefined) line.field = rejection.field;
  return line;
}

/** Strict mode: read the catalog once without side effects and refuse the run if any row is bad. */
async function assertNoRejectedRows(job: ResolvedJob): Promise<void> {
  const found: RowRejection[] = [];
  for await (const event of planItems(job, readCatalog(job))) {
    if (event.kind === 'rejected') found.push(event.rejection);
  }
  if (found.length === 0) return;
  const first = found[0] as RowRejection;
  const where = `${first.file}:${first.line}${first.field ? ` field \`${first.field}\`` : ''}`;
  throw new BunchError(
    'E_CATALOG_ROW',
    `strict mode: ${found.length} catalog row(s) rejected; first at ${where}: ${first.reason}`,
    { location: { file: first.file, line: first.line, ...(first.field ? { field: first.field } : {}) } },
  );
}
