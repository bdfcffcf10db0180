import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chargedUsd } from '../../gemini/run-pricing.js';
import type { Logger } from 'pino';
import { BunchError, toErrorRecord } from '../../errors/bunch-error.js';
import { ERROR_CODES, type ErrorCode } from '../../errors/error-code.js';
import { classifyResponse } from '../../gemini/classify-outcome.js';
import type { GeminiClient } from '../../gemini/gemini-client.js';
import { parseGenerateResponse } from '../../gemini/parse-generate-response.js';
import type { ItemTarget } from '../../plan/planned-item.js';
import { baseRecord, storeItemOutput } from '../../outputs/store-item-output.js';
import type { RunConfig } from '../../runs/run-config.js';
import type { RunStore } from '../../runs/run-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { recordItem } from '../record-item.js';
import { readLines } from './read-lines.js';
import { forgetTurns, saveTurn, storedTurnRecords } from '../sync/edit-conversation.js';
import { codeForRpcStatus } from '../../gemini/rpc-status-code.js';
import type { UpstreamBatch } from '../../gemini/upstream-batch.js';
import type { ShardShare } from '../../runs/record-log.js';

/** An item the batch did not finish: it moves on per `batch.onUnfinished` (salvage-items.ts). */
export interface UnfinishedItem {
  target: ItemTarget;
  code: ErrorCode;
  message: string;
}

export interface CollectDeps {
  runs: RunStore;
  store: ObjectStore;
  config: RunConfig;
  client: Pick<GeminiClient, 'download'>;
  logger: Logger;
  onRunComplete(runId: string): Promise<void>;
  /** Where result files are downloaded; default the OS temp dir. */
  tempRoot?: string;
  /** Result lines handled at once (each holds one response in memory). Default 4. */
  concurrency?: number;
  /**
   * Line text in flight at once, in bytes (default 32 MB): small lines run `concurrency` at a
   * time, 4K lines (20+ MB of base64, plus their decoded pixels) one at a time.
   */
  maxInFlightBytes?: number;
  /**
   * Each item's share of the shard's budget reservation, given back with its first record (when
   * the shard reserved any): a big batch's recorded items are not counted both reserved and spent.
   */
  shardShare?: ShardShare;
}

export interface CollectOutcome {
  succeeded: number;
  failed: number;
  /** Already terminal before this collection (an earlier delivery of this job, or another lane). */
  skipped: number;
  /** Keys not in the shard, and repeated keys: logged and ignored. */
  ignored: number;
  /** Result bytes read (the downloaded file, or 0 for inline results). */
  bytes: number;
  /** Error lines and retryable failures, for salvage. Items with no result line are not here. */
  unfinished: UnfinishedItem[];
  /** Keys that had a result line (served or errored). */
  answered: Set<string>;
  /** Multi-turn items whose turn was answered and stored: their next turn goes into the next wave. */
  nextTurns: ItemTarget[];
}

/** Whole-download deadline: a multi-gigabyte result file takes minutes. */
const DOWNLOAD_TIMEOUT_MS = 2 * 3600_000;

/**
 * Collects a finished batch's results into the run, through the same path as the sync lane:
 * parse → classify → decode, validate and store (storeItemOutput) → record once (recordItem).
 * A result file is downloaded to a temporary file, then read line by line; memory holds a chunk
 * and at most `concurrency` lines, whatever the file size. Lines are matched to items by `key`.
 * Every step is safe to repeat: items already terminal are skipped, outputs overwrite the same keys.
 */
export async function collectBatchResults(
  batch: UpstreamBatch,
  targets: ReadonlyMap<string, ItemTarget>,
  deps: CollectDeps,
): Promise<CollectOutcome> {
  const outcome: CollectOutcome = { succeeded: 0, failed: 0, skipped: 0, ignored: 0, bytes: 0, unfinished: [], answered: new Set(), nextTurns: [] };
  const handle = createLineHandler(targets, deps, outcome);
  const limit = Math.max(1, deps.concurrency ?? 4);
  const byteBudget = deps.maxInFlightBytes ?? 32 * 1024 * 1024;
  const inFlight = new Set<Promise<void>>();
  let inFlightBytes = 0;
  let failure: unknown;
  const waitForRoom = async (bytes: number) => {
    while (inFlight.size > 0 && (inFlight.size >= limit || inFlightBytes + bytes > byteBudget)) await Promise.race(inFlight);
  };
  const submit = async (line: ResultLine, bytes: number) => {
    await waitForRoom(bytes);
    inFlightBytes += bytes;
    const task = handle(line)
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => {
        inFlightBytes -= bytes;
        inFlight.delete(task);
      });
    inFlight.add(task);
  };

  if (batch.responsesFile) {
    const dir = await mkdtemp(path.join(deps.tempRoot ?? tmpdir(), 'bunch-batch-'));
    try {
      const file = path.join(dir, 'results.jsonl');
      const { bytes } = await deps.client.download(`${batch.responsesFile}:download?alt=media`, file, { timeoutMs: DOWNLOAD_TIMEOUT_MS });
      outcome.bytes = bytes;
      for await (const text of readLines(createReadStream(file, { highWaterMark: 1024 * 1024 }))) {
        if (failure) break;
        // Wait for room before parsing: a parsed 4K line is another ~24 MB held while we wait.
        await waitForRoom(text.length);
        await submit(parseLine(text), text.length);
      }
      await Promise.all(inFlight);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } else {
    for (const entry of batch.inlinedResponses ?? []) {
      if (failure) break;
      await submit({ key: entry.key, response: entry.response, error: entry.error }, 0);
    }
    await Promise.all(inFlight);
  }
  if (failure) throw failure;
  return outcome;
}

interface ResultLine {
  key?: string | undefined;
  response?: unknown;
  error?: { code?: number; message?: string } | undefined;
  unreadable?: string;
}

function parseLine(text: string): ResultLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { unreadable: error instanceof Error ? error.message : String(error) };
  }
  return toResultLine(value);
}

/**
 * A result line is the API's text, not ours: its shape is checked here, so a line with a numeric
 * key or an error whose message is an object is one unplaced or failed item. Before, such a line
 * threw a TypeError out of the collection; every delivery failed the same way, and once the shard
 * was given up on, all its items — the served ones too — were paid for again on the sync lane.
 */
function toResultLine(value: unknown): ResultLine {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { unreadable: 'not a JSON object' };
  const raw = value as Record<string, unknown>;
  if (typeof raw.key !== 'string') return { unreadable: raw.key === undefined ? 'no key' : `key is a ${typeof raw.key}, not a string` };
  const line: ResultLine = { key: raw.key };
  if (raw.response !== undefined) line.response = raw.response;
  if (raw.error !== undefined && raw.error !== null) line.error = toRpcStatus(raw.error);
  return line;
}

/** A google.rpc.Status as far as it can be read: a code only when it is a number, a message as text. */
function toRpcStatus(value: unknown): { code?: number; message?: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { message: String(value) };
  const raw = value as Record<string, unknown>;
  const status: { code?: number; message?: string } = {};
  if (typeof raw.code === 'number' && Number.isFinite(raw.code)) status.code = raw.code;
  if (raw.message !== undefined) status.message = typeof raw.message === 'string' ? raw.message : JSON.stringify(raw.message) ?? String(raw.message);
  return status;
}

function createLineHandler(targets: ReadonlyMap<string, ItemTarget>, deps: CollectDeps, outcome: CollectOutcome) {
  const { runs, store, config, logger } = deps;
  const runId = config.runId;

  return async function handleLine(line: ResultLine): Promise<void> {
    const target = typeof line.key === 'string' ? targets.get(line.key) : undefined;
    if (!target || outcome.answered.has(target.itemKey)) {
      // Never recorded against a guessed item: a result we cannot place is only logged.
      outcome.ignored += 1;
      logger.warn({ runId, key: line.key?.slice(0, 200), unreadable: line.unreadable, duplicate: Boolean(target) }, 'batch result line ignored');
      return;
    }
    outcome.answered.add(target.itemKey);
    if (await runs.records.isTerminal(runId, target.index)) {
      outcome.skipped += 1;
      return;
    }
    if (line.error || line.response === undefined) {
      const code = line.error ? codeForRpcStatus(line.error.code, line.error.message) : 'E_MALFORMED_RESPONSE';
      const message = line.error
        ? `batch item error (rpc code ${line.error.code ?? '?'}): ${(line.error.message ?? '').slice(0, 300)}`
        : 'batch result line has neither response nor error';
      outcome.unfinished.push({ target, code, message });
      return;
    }
    // What the answer was billed at, once it could be read: an unusable answer was paid for too.
    let costUsd: number | undefined;
    try {
      const parsed = parseGenerateResponse(line.response);
      costUsd = chargedUsd(config.pricing, 'batch', target.variant, parsed.usage, parsed.images.length);
      const turn = target.turn ?? 1;
      const steps = target.steps?.length ?? 0;
      if (turn <= steps) {
        // A turn of a multi-turn edit before the last: stored for the next wave, paid now.
        const refusal = classifyResponse(parsed, { wantImage: true });
        if (refusal) throw refusal;
        await saveTurn({ store, target, runId, keepSteps: config.keepSteps ?? false, persist: (write) => write() }, turn, parsed, costUsd);
        await runs.budget.commitTurn(runId, { index: target.index, turn }, costUsd, deps.shardShare);
        outcome.nextTurns.push(target);
        return;
      }
      const refusal = classifyResponse(parsed, { wantImage: config.wantImage });
      if (refusal) throw refusal;
      const stepRecords = steps > 0 ? [...(await storedTurnRecords(store, target, turn)), { turn, usage: parsed.usage, costUsd }] : undefined;
      const record = await storeItemOutput(store, target, parsed, {
        runId,
        lane: 'batch',
        wantImage: config.wantImage,
        wantText: config.wantText,
        ...(config.captionSchema ? { captionSchema: config.captionSchema } : {}),
        ...(config.saveThoughts ? { saveThoughts: true } : {}),
        attempts: 1,
        ...(stepRecords ? { steps: stepRecords } : {}),
        costUsd,
      });
      if (steps > 0) await forgetTurns(store, target, steps);
      await recordItem(runs, store, runId, record, deps.onRunComplete, deps.shardShare ? { shardShare: deps.shardShare } : {});
      outcome.succeeded += 1;
    } catch (error) {
      const failure = error instanceof BunchError ? error : new BunchError('E_INTERNAL', toErrorRecord(error).message, { cause: error });
      // Storage trouble is ours, not the item's: fail the collection so it is repeated.
      if (failure.code === 'E_STORAGE') throw failure;
      // The model answered, and the answer is unusable (refused, no image, undecodable): it is not
      // sent to the sync lane, where the same prompt would be paid for again to the same end.
      const record = baseRecord(target, 'batch', 'failed', new Date().toISOString());
      record.attempts = 1;
      if (costUsd !== undefined) record.costUsd = costUsd;
      record.errorCode = failure.code;
      record.errorMessage = failure.message;
      if (failure.reason) record.finishReason = failure.reason;
      await recordItem(runs, store, runId, record, deps.onRunComplete, deps.shardShare ? { shardShare: deps.shardShare } : {});
      outcome.failed += 1;
    }
  };
}

/** Whether an unfinished item is worth another try elsewhere (never-served items always are). */
export function isSpillable(code: ErrorCode): boolean {
  return code === 'E_BATCH' || ERROR_CODES[code].retryable;
}
