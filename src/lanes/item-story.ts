import { createInterface } from 'node:readline';
import type { Queue } from 'bullmq';
import type { GenerateJobData } from './sync/generate-job-data.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { AttemptEntry } from '../runs/attempt-entry.js';
import type { ItemRecord } from '../runs/item-record.js';
import { runObjectKeys } from '../runs/run-keys.js';
import type { RunStore } from '../runs/run-store.js';

/** What `bunch logs <runId> <itemKey>` shows: the steps of one item, and where it stands. */
export interface ItemStory {
  runId: string;
  itemKey: string;
  /** The terminal status, or the BullMQ state of a job still in flight. */
  state: string;
  steps: AttemptEntry[];
  record?: ItemRecord;
}

/**
 * Finds one item's story: in the manifest once the run is finalized, in the run's records while
 * it runs, or in the queued job (waiting, delayed, active) before it ends. Memory: one line or
 * record at a time; the queue is paged.
 */
export async function findItemStory(
  runs: RunStore,
  store: ObjectStore,
  queue: Queue<GenerateJobData>,
  runId: string,
  itemKey: string,
): Promise<ItemStory | undefined> {
  const record = (await fromManifest(store, runId, itemKey)) ?? (await fromRecords(runs, store, runId, itemKey));
  if (record) return { runId, itemKey, state: record.status, steps: [...(record.history ?? []), finalStep(record)], record };
  for (let start = 0; ; start += 1000) {
    const jobs = await queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'failed'], start, start + 999);
    if (jobs.length === 0) return undefined;
    const job = jobs.find((candidate) => candidate?.data.runId === runId && candidate.data.itemKey === itemKey);
    if (job) return { runId, itemKey, state: await job.getState(), steps: job.data.history ?? [] };
  }
}

/** The last step, from the record itself. */
function finalStep(record: ItemRecord): AttemptEntry {
  const step: AttemptEntry = {
    at: record.finishedAt,
    attempt: record.attempts,
    // A skipped item's outputs came from a run before: its last step is finding them stored.
    outcome: record.reused || record.status === 'skipped' ? 'reused' : record.status,
    worker: record.worker ?? '-',
  };
  if (record.errorCode) step.code = record.errorCode;
  if (record.latencyMs !== undefined) step.latencyMs = record.latencyMs;
  if (record.httpStatus !== undefined) step.httpStatus = record.httpStatus;
  if (record.reusedFrom) step.note = `outputs made by run ${record.reusedFrom}`;
  return step;
}

async function fromManifest(store: ObjectStore, runId: string, itemKey: string): Promise<ItemRecord | undefined> {
  const stream = await store.getStream(runObjectKeys(runId).manifest);
  if (!stream) return undefined;
  const needle = JSON.stringify(itemKey);
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    // Cheap pre-check before parsing: most lines are other items.
    if (!text.includes(needle)) continue;
    const line = JSON.parse(text) as ItemRecord & { status: string };
    if (line.itemKey === itemKey) {
      stream.destroy();
      return line;
    }
  }
  return undefined;
}

async function fromRecords(runs: RunStore, store: ObjectStore, runId: string, itemKey: string): Promise<ItemRecord | undefined> {
  for await (const record of runs.records.read(runId, store)) if (record.itemKey === itemKey) return record;
  return undefined;
}
