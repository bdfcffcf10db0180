import type { Queue } from 'bullmq';
import type { RunConfig } from '../../runs/run-config.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { enqueueGenerateJobs, type SyncWork } from '../enqueue-generate-jobs.js';
import type { GenerateJobData } from './generate-job-data.js';

/**
 * Bounded Redis for big runs: the shared `generate` queue holds at most a window of jobs waiting
 * (`sync.queueWindow`, default 10,000); planned items beyond it wait in storage as chunk files
 * (`runs/<id>/planned/<seq>.jsonl`, one SyncWork per line) and a feed job moves them into the
 * queue as it drains (feed-job.ts). Redis then holds a few KB per queued item, whatever the run's
 * size; storage holds the rest, where it costs next to nothing.
 */
export const DEFAULT_QUEUE_WINDOW = 10_000;
/** Items per chunk file: ~1-3 MB of JSON, one storage write/read per thousand items. */
export const FEED_CHUNK_ITEMS = 1000;

/** A quarter of the window per chunk (at most FEED_CHUNK_ITEMS): a small window still feeds smoothly. */
export function feedChunkItems(window: number): number {
  return Math.max(1, Math.min(FEED_CHUNK_ITEMS, Math.floor(window / 4)));
}

export function plannedChunkKey(runId: string, seq: number): string {
  return `runs/${runId}/planned/${String(seq).padStart(6, '0')}.jsonl`;
}

/** Jobs of the shared queue that are not finished: what the window bounds. */
export async function queuedJobs(queue: Queue<GenerateJobData>): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'waiting-children');
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/**
 * Planning's side of the window: items are enqueued while the queue has room, and once it is full
 * every later item goes to chunk files in planning order (the feed keeps that order).
 */
export class PlannedFeedWriter {
  private spilling = false;
  /** Jobs believed queued: the queue's count at the last look, plus what was added since. */
  private estimate: number | undefined;
  private buffer: SyncWork[] = [];
  private itemsInBuffer = 0;
  /** Chunk files written. */
  chunks = 0;
  /** Items (dependants included) handed to the queue now, and written to storage for later. */
  enqueued = 0;
  stored = 0;

  constructor(
    private readonly queue: Queue<GenerateJobData>,
    private readonly config: Pick<RunConfig, 'runId' | 'sync' | 'systemInstruction'>,
    private readonly store: ObjectStore,
    private readonly chunkItems: number = feedChunkItems(config.sync.queueWindow ?? DEFAULT_QUEUE_WINDOW),
  ) {}

  get window(): number {
    return this.config.sync.queueWindow ?? DEFAULT_QUEUE_WINDOW;
  }

  /**
   * Hands work to the queue while it has room, the rest (and everything after) to storage.
   * Returns the units queued now: a prefix of `list`.
   */
  async add(list: readonly SyncWork[]): Promise<SyncWork[]> {
    if (list.length === 0) return [];
    let queuedNow: SyncWork[] = [];
    if (!this.spilling) {
      this.estimate ??= await queuedJobs(this.queue);
      // Planning outruns the workers, so the estimate only grows; look again before spilling.
      if (this.estimate + list.length > this.window) this.estimate = await queuedJobs(this.queue);
      const room = Math.max(0, this.window - this.estimate);
      queuedNow = list.slice(0, room);
      const added = await enqueueGenerateJobs(this.queue, this.config, queuedNow);
      this.estimate += added;
      this.enqueued += added;
      if (queuedNow.length === list.length) return queuedNow;
      this.spilling = true;
    }
    for (const work of list.slice(queuedNow.length)) {
      this.buffer.push(work);
      this.itemsInBuffer += 1;
      if (this.buffer.length >= this.chunkItems) await this.writeChunk();
    }
    return queuedNow;
  }

  /** Writes what is left; true when the run has chunks for a feed job to deliver. */
  async close(): Promise<boolean> {
    if (this.buffer.length > 0) await this.writeChunk();
    return this.chunks > 0;
  }

  private async writeChunk(): Promise<void> {
    const body = this.buffer.map((work) => JSON.stringify(work)).join('\n') + '\n';
    await this.store.put(plannedChunkKey(this.config.runId, this.chunks), body, { contentType: 'application/x-ndjson' });
    this.chunks += 1;
    this.stored += this.itemsInBuffer;
    this.buffer = [];
    this.itemsInBuffer = 0;
  }
}

/** Reads one chunk back. */
export async function readPlannedChunk(store: ObjectStore, runId: string, seq: number): Promise<SyncWork[]> {
  const body = await store.get(plannedChunkKey(runId, seq));
  if (!body) throw new Error(`planned chunk ${plannedChunkKey(runId, seq)} is missing`);
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as SyncWork);
}
