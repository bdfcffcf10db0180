import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmulatorContext, GenerateOutcome } from '../emulator-context.js';
import { GoogleApiError } from '../google-error.js';
import { fileStoreFor, type FileStore } from '../files/file-store.js';
import { HashingFileWriter } from '../files/hashing-file-writer.js';
import { randomResourceId } from '../files/random-resource-id.js';
import type { BatchCreateRequest } from './batch-create-request.js';
import { countJsonlItems, fileItemSource, inlineItemSource, type BatchItem } from './batch-item-source.js';
import { BatchJob, type BatchResultSink, type RpcStatus } from './batch-job.js';
import { resolveBatchScenario } from './batch-scenario.js';

/** Items one batch may serve per loop turn, so one big batch cannot starve the others or close(). */
const ITEMS_PER_TURN = 16;
const CANCELLED_ITEM: RpcStatus = { code: 1, message: 'Request was cancelled: the batch was cancelled before it was served.' };

/**
 * Runs the emulator's batches. State is read off the clock on every request (PENDING, RUNNING,
 * FAILED/EXPIRED scenarios); one background loop, stopped by `close()`, serves RUNNING items in
 * input order as the clock makes them due, calling `context.generate` for each and streaming the
 * result lines to disk, so memory holds one response at a time however large the batch.
 */
export class BatchEngine {
  private readonly jobs = new Map<string, BatchJob>();
  private timer: NodeJS.Timeout | undefined;
  private turn: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly context: EmulatorContext,
    private readonly files: FileStore,
  ) {}

  async create(model: string, request: BatchCreateRequest): Promise<BatchJob> {
    if (this.closed) throw new GoogleApiError(503, 'UNAVAILABLE', 'The emulator is shutting down.');
    const scenario = resolveBatchScenario(this.context.batch, request.displayName);
    let requestCount: number;
    if (request.input.kind === 'inline') {
      requestCount = request.input.requests.length;
    } else {
      const file = this.files.get(request.input.fileId);
      if (!file) throw new GoogleApiError(404, 'NOT_FOUND', `File files/${request.input.fileId} not found.`);
      requestCount = await countJsonlItems(file.path);
      if (requestCount === 0) throw new GoogleApiError(400, 'INVALID_ARGUMENT', `Input file files/${file.id} has no requests.`);
    }
    const now = this.context.now();
    const active = this.list().filter((job) => job.active).length;
    if (active >= this.context.batch.maxActiveBatches) {
      throw new GoogleApiError(
        429,
        'RESOURCE_EXHAUSTED',
        `Too many active batches: ${active} are pending or running (limit ${this.context.batch.maxActiveBatches}). Wait for one to finish.`,
      );
    }
    let id = randomResourceId(36);
    while (this.jobs.has(id)) id = randomResourceId(36);
    const inlinePath = request.input.kind === 'inline' ? join(this.context.dataDir, 'batches', `${id}.inline.jsonl`) : undefined;
    const job = new BatchJob(id, model, request.displayName, request.input, requestCount, scenario, now, inlinePath);
    this.jobs.set(id, job);
    this.schedule();
    return job;
  }

  /** The batch with clock-driven transitions applied, or undefined (unknown or deleted). */
  get(id: string): BatchJob | undefined {
    const job = this.jobs.get(id);
    if (job) this.applyClock(job, this.context.now());
    this.schedule();
    return job;
  }

  /** Every batch, newest first. */
  list(): BatchJob[] {
    const now = this.context.now();
    const jobs = [...this.jobs.values()].reverse();
    for (const job of jobs) this.applyClock(job, now);
    return jobs;
  }

  /**
   * Cancels a batch. Before it runs: CANCELLED with error code 1 and no output. While it runs:
   * items already served keep their results, every unserved item gets a code-1 error line, and
   * the batch ends CANCELLED with that partial output. Terminal batches are left alone.
   */
  async cancel(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job) return false;
    job.cancelRequested = true;
    await job.exclusive(() => this.guard(job, () => this.cancelNow(job)));
    return true;
  }

  /** Forgets a batch (stopping it if it runs). A finished result file stays in the Files API. */
  async delete(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job) return false;
    this.jobs.delete(id);
    job.cancelRequested = true;
    await job.exclusive(async () => {
      await this.release(job);
      if (job.inlineResultsPath) await rm(job.inlineResultsPath, { force: true });
    });
    return true;
  }

  /** Stops the background loop and releases open files. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.turn;
    await Promise.all([...this.jobs.values()].map((job) => job.exclusive(() => this.release(job))));
  }

  private schedule(): void {
    if (this.closed || this.timer || this.turn) return;
    if (![...this.jobs.values()].some((job) => job.active)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.turn = this.runTurn().finally(() => {
        this.turn = undefined;
        this.schedule();
      });
    }, this.context.batch.tickMs);
    // The HTTP server keeps the process alive; the loop alone must not.
    this.timer.unref();
  }

  private async runTurn(): Promise<void> {
    for (const job of [...this.jobs.values()]) {
      if (this.closed) return;
      if (!job.active || job.cancelRequested) continue;
      await job.exclusive(() => this.guard(job, () => this.advance(job)));
    }
  }

  private async advance(job: BatchJob): Promise<void> {
    const now = this.context.now();
    this.applyClock(job, now);
    if (!job.active || job.cancelRequested || this.closed) return;
    if (now < job.runStartMs || job.scenario.outcome !== 'succeeded') return;
    await this.start(job);
    const due = job.dueCount(now);
    for (let served = 0; served < ITEMS_PER_TURN && job.processed < due; served += 1) {
      if (job.cancelRequested || this.closed) return;
      await this.serveNext(job);
    }
    if (job.processed >= job.requestCount && this.context.now() >= job.runEndMs) {
      await this.completeOutput(job);
      job.finish('BATCH_STATE_SUCCEEDED', this.context.now());
    }
  }

  /** FAILED and EXPIRED scenarios need no I/O: they happen when the clock reaches the end of RUNNING. */
  private applyClock(job: BatchJob, now: number): void {
    if (!job.active || job.started || now < job.runEndMs) return;
    if (job.scenario.outcome === 'failed') {
      job.finish('BATCH_STATE_FAILED', job.runEndMs, { code: 13, message: 'Batch failed: internal error (emulated scenario).' });
    } else if (job.scenario.outcome === 'expired') {
      job.finish('BATCH_STATE_EXPIRED', job.runEndMs, {
        code: 4,
        message: 'Batch expired: it did not finish within the time limit (emulated scenario).',
      });
    }
  }

  private async cancelNow(job: BatchJob): Promise<void> {
    const now = this.context.now();
    this.applyClock(job, now);
    if (!job.active) return;
    if (!job.started && (now < job.runStartMs || job.scenario.outcome !== 'succeeded')) {
      job.finish('BATCH_STATE_CANCELLED', now, { code: 1, message: 'Batch was cancelled before it started running.' });
      return;
    }
    await this.start(job);
    for (let item = await job.source?.next(); item; item = await job.source?.next()) {
      await this.writeResult(job, item, { ok: false, status: CANCELLED_ITEM });
    }
    await this.completeOutput(job);
    job.finish('BATCH_STATE_CANCELLED', this.context.now());
  }

  private async start(job: BatchJob): Promise<void> {
    if (job.started) return;
    job.started = true;
    if (job.input.kind === 'inline') {
      job.source = inlineItemSource(job.input.requests);
      const path = job.inlineResultsPath ?? join(this.context.dataDir, 'batches', `${job.id}.inline.jsonl`);
      await mkdir(join(this.context.dataDir, 'batches'), { recursive: true });
      const writer = new HashingFileWriter(path);
      job.sink = { write: (line) => writer.write(line), finish: async () => void (await writer.finish()), abort: () => writer.abort() };
      return;
    }
    const file = this.files.get(job.input.fileId);
    if (!file) throw new GoogleApiError(404, 'NOT_FOUND', `Input file files/${job.input.fileId} no longer exists.`);
    job.source = fileItemSource(file.path);
    const generated = await this.files.createGenerated(job.resultFileId, 'application/jsonl');
    job.sink = { write: (line) => generated.write(line), finish: async () => void (await generated.finish()), abort: () => generated.abort() };
  }

  private async serveNext(job: BatchJob): Promise<void> {
    const item = await job.source?.next();
    if (!item) {
      // The input ended early (it changed since create): nothing more to serve.
      job.processed = job.requestCount;
      return;
    }
    if (item.invalid !== undefined) {
      await this.writeResult(job, item, { ok: false, status: { code: 3, message: item.invalid } });
      return;
    }
    let outcome: GenerateOutcome;
    try {
      outcome = await this.context.generate(job.model, item.request);
    } catch {
      outcome = { ok: false, error: new GoogleApiError(500, 'INTERNAL', 'Internal error encountered.') };
    }
    await this.writeResult(job, item, outcome.ok ? { ok: true, response: outcome.response } : { ok: false, status: outcome.error.toRpcStatus() });
  }

  /** One result line: `{key, response|error}` for file input, `{response|error, metadata}` inline. */
  private async writeResult(
    job: BatchJob,
    item: BatchItem,
    result: { ok: true; response: Record<string, unknown> } | { ok: false; status: RpcStatus },
  ): Promise<void> {
    const outcome = result.ok ? { response: result.response } : { error: result.status };
    const line =
      job.input.kind === 'file'
        ? { ...(item.key === undefined ? {} : { key: item.key }), ...outcome }
        : { ...outcome, ...(item.metadata === undefined ? {} : { metadata: item.metadata }) };
    await job.sink?.write(`${JSON.stringify(line)}\n`);
    job.processed += 1;
    if (result.ok) job.succeeded += 1;
    else job.failed += 1;
  }

  private async completeOutput(job: BatchJob): Promise<void> {
    await job.source?.close();
    job.source = undefined;
    await job.sink?.finish();
    job.sink = undefined;
    job.hasOutput = true;
  }

  /** An unexpected failure (disk, vanished input) ends the batch FAILED instead of wedging it. */
  private async guard(job: BatchJob, task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      if (!job.active) return;
      await this.release(job);
      const message = error instanceof GoogleApiError ? error.message : 'Batch failed: internal error.';
      const code = error instanceof GoogleApiError && error.status === 'NOT_FOUND' ? 5 : 13;
      job.finish('BATCH_STATE_FAILED', this.context.now(), { code, message });
    }
  }

  private async release(job: BatchJob): Promise<void> {
    const { source, sink } = job;
    job.source = undefined;
    job.sink = undefined;
    await source?.close().catch(() => undefined);
    await sink?.abort().catch(() => undefined);
  }
}

const engines = new WeakMap<EmulatorContext, BatchEngine>();

/** The one BatchEngine of a running emulator. */
export function batchEngineFor(context: EmulatorContext): BatchEngine {
  let engine = engines.get(context);
  if (!engine) {
    engine = new BatchEngine(context, fileStoreFor(context));
    engines.set(context, engine);
  }
  return engine;
}
