/**
 * One shard's life, driven by one BullMQ job `<runId>.batch.<shard>` (batch-queue.ts). Between
 * steps the job moves itself to the delayed set: no process sleeps through a 24 h batch, any
 * worker of the fleet takes the next step, and BullMQ runs one job id once at a time — except
 * after a stall, when a delivery that lost its lock may run on beside the next. So the budget is
 * reserved once (with the state that holds it), one delivery at a time creates the batch (a
 * lease), and a delivery whose copy is behind the stored state goes on from the stored state.
 * State lives in Redis (shard-state.ts).
 *
 *   planned ──(slot under maxConcurrentBatches; budget reserved)──► submitting
 *   submitting (under the creation lease): look for a batch named `bunch:<run>:<shard>` upstream
 *       found ──► submitted   (a crash or reset between create and record lands here)
 *       else upload the shard file, create ──► submitted
 *       429 / 5xx / network ──► same state, retried later with backoff (not failed)
 *       refused for good ──► every item salvaged (E_BATCH) ──► done
 *   submitted: GET the batch
 *       PENDING / RUNNING ──► poll again after a backing-off delay (from pollIntervalMs)
 *       run stopped, or past the deadline cutoff ──► POST :cancel, poll again soon; the cancel is
 *           sent again at most once a minute, and a batch not ended a grace period after the
 *           first is no longer waited for: every item salvaged ──► done (cancel-wait.ts)
 *           a batch adopted from an earlier run is never cancelled: every item salvaged ──► done
 *       SUCCEEDED / FAILED / CANCELLED / EXPIRED (BATCH_STATE_* or JOB_STATE_*) ──► collecting
 *       404 (deleted upstream) ──► collecting with no output
 *   collecting: results (file or inline) streamed into the run: served items stored and recorded
 *       (paid results are kept whatever the batch's final state); error lines, items missing from
 *       the output (FAILED, EXPIRED, cancelled) and retryable refusals are salvaged (spilled to
 *       sync, resubmitted, or failed per batch.onUnfinished; cancelled if the run was stopped)
 *       ──► done (slot and budget reservation given back once, atomically with the final state)
 * A step interrupted by a crash is repeated by the next delivery; each step is idempotent.
 * Given up on (its job failed for good, or the Batch API kept failing past the deadline): its
 * batch is cancelled, what the batch served collected if it can be read and has ended, and every
 * other unfinished item salvaged.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import { stopsTheRun } from '../../errors/run-stopping-codes.js';
import { BunchError } from '../../errors/bunch-error.js';
import { estimatedCallUsd } from '../../gemini/run-pricing.js';
import { keepRenewed } from '../../redis/keep-renewed.js';
import type { ItemTarget } from '../../plan/planned-item.js';
import type { RunConfig } from '../../runs/run-config.js';
import type { RunControl, RunStore, StopReason } from '../../runs/run-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { RunContextCache } from '../run-context-cache.js';
import type { GenerateJobData } from '../sync/generate-job-data.js';
import { cancelBatch, getBatch, type BatchApiClient } from '../../gemini/batch-api.js';
import { createShardBatch, findBatchByDisplayName } from './submit-shard.js';
import { batchCutoff } from './batch-deadline.js';
import { adoptedLeftReason, cancelWait, noteCancelSent } from './cancel-wait.js';
import type { BatchJobData } from './batch-queue.js';
import { collectBatchResults, type CollectOutcome, type UnfinishedItem } from './collect-results.js';
import { releaseShardDependants } from './release-shard-dependants.js';
import { writeNextTurnShards } from './next-turn-shards.js';
import { salvageItems, type SalvageDeps } from './salvage-items.js';
import { loadShardTargets } from './shard-items.js';
import { displayNameDigest, readShardState, reserveShardBudget, settleShardState, writeShardState, type BatchShardState } from './shard-state.js';
import type { UpstreamBatch } from '../../gemini/upstream-batch.js';

export interface BatchProcessorDeps {
  runs: RunStore;
  contexts: RunContextCache;
  client: BatchApiClient;
  generateQueue: Queue<GenerateJobData>;
  batchQueue: Queue<BatchJobData>;
  logger: Logger;
  onRunComplete(runId: string): Promise<void>;
  tempRoot?: string;
  now?: () => number;
}

/** Longest wait between two polls, and between two retries of a failed call. */
const MAX_POLL_DELAY_MS = 10 * 60_000;
const MAX_RETRY_DELAY_MS = 5 * 60_000;
/** How long one delivery may take to look up and create a shard's batch (uploading its requests included). */
const CREATION_LEASE_MS = 10 * 60_000;
/** Times one delivery goes on from a state another delivery wrote before it waits a poll. */
const MAX_CATCH_UPS = 10;
/** Transient failures tolerated once the deadline cutoff has passed, before the shard is given up. */
const RETRIES_AFTER_CUTOFF = 5;

type Step = { kind: 'next' } | { kind: 'later'; delayMs: number } | { kind: 'finished'; result: string };

export function createBatchProcessor(deps: BatchProcessorDeps) {
  const now = deps.now ?? Date.now;

  return async function processBatchJob(job: Job<BatchJobData>, token?: string): Promise<string> {
    const { runId, shard } = job.data;
    const { config, store } = await deps.contexts.get(runId);
    const state = await readShardState(deps.runs, runId, shard);
    if (!state) throw new BunchError('E_INTERNAL', `batch shard ${shard} of run ${runId} has no state`);
    const ctx: ShardContext = { deps, config, store, state, now, batch: undefined, deliveryId: randomUUID() };
    let catchUps = 0;

    for (;;) {
      let step: Step;
      try {
        step = await advance(ctx);
        state.retries = 0;
      } catch (error) {
        if (!(error instanceof BunchError) || !error.retryable) throw error;
        if (now() >= batchCutoff(config) && state.retries >= RETRIES_AFTER_CUTOFF) {
          // The upstream has been failing past the run's deadline: stop waiting for it.
          step = await giveUpOnShard(ctx, `the Batch API kept failing past the deadline: ${error.code}: ${error.message}`);
          const replaced = await settleShardState(deps.runs, runId, state);
          if (replaced) await cancelBatchUnknownTo(ctx, replaced);
          else await leaveSettledShard(ctx);
          return step.kind === 'finished' ? step.result : 'salvaged';
        }
        // Transient upstream trouble (429 on create, 5xx, resets): same state, later. Not a failed attempt.
        state.retries += 1;
        state.error = `${error.code}: ${error.message}`.slice(0, 300);
        const backoff = Math.min(MAX_RETRY_DELAY_MS, config.batch.pollIntervalMs * 2 ** Math.min(state.retries - 1, 16));
        step = { kind: 'later', delayMs: Math.max(backoff, error.retryAfterMs ?? 0) };
        deps.logger.warn({ runId, shard, phase: state.phase, code: error.code, retries: state.retries }, 'batch step will be retried');
      }
      if (state.phase === 'done') {
        const replaced = await settleShardState(deps.runs, runId, state);
        if (replaced) await cancelBatchUnknownTo(ctx, replaced);
        else if (step.kind === 'finished' && step.result !== 'done') {
          deps.logger.info({ runId, shard }, 'the shard was settled by another process first');
          await leaveSettledShard(ctx);
        }
      } else {
        const written = await writeShardState(deps.runs, runId, state);
        const stored = written === 'behind' ? await readShardState(deps.runs, runId, shard) : undefined;
        if (written === 'done' || (written === 'behind' && (!stored || stored.phase === 'done'))) {
          // Settled elsewhere meanwhile (this delivery lost its lock and BullMQ failed the job).
          deps.logger.warn({ runId, shard, phase: state.phase }, 'the shard was settled elsewhere while this delivery ran: stopping');
          await leaveSettledShard(ctx);
          return 'settled elsewhere';
        }
        if (stored) {
          // Another delivery of this job got further (a reservation, a batch this copy does not
          // know): go on from where it is instead of writing this older copy over it.
          deps.logger.info({ runId, shard, phase: state.phase, stored: stored.phase }, 'another delivery got further with this shard: going on from its state');
          goOnFrom(ctx, stored);
          catchUps += 1;
          if (catchUps <= MAX_CATCH_UPS) continue;
          // Two live deliveries stepping over each other: this one waits a poll.
          step = { kind: 'later', delayMs: config.batch.pollIntervalMs };
        }
      }
      if (step.kind === 'finished') return step.result;
      if (step.kind === 'later') {
        await job.moveToDelayed(now() + step.delayMs, token);
        throw new DelayedError();
      }
    }
  };
}

interface ShardContext {
  /** Tells this delivery from another of the same job (the creation lease's token). */
  deliveryId: string;
  deps: BatchProcessorDeps;
  config: RunConfig;
  store: ObjectStore;
  state: BatchShardState;
  now: () => number;
  /** The batch as last read in this delivery, handed from `submitted` to `collecting`. */
  batch: UpstreamBatch | undefined;
}

async function advance(ctx: ShardContext): Promise<Step> {
  const { deps, config, state } = ctx;
  const { runs, client } = deps;
  const runId = config.runId;
  const control = await runs.getControl(runId);
  // A budget stop does not cut a shard whose items were already reserved within the budget.
  if (control.stop === 'E_BUDGET' && state.reservedUsd) delete control.stop;
  const pastCutoff = ctx.now() >= batchCutoff(config);

  switch (state.phase) {
    case 'done':
      return { kind: 'finished', result: 'done' };

    case 'planned': {
      if (control.stop || pastCutoff) return salvageWholeShard(ctx, control.stop, pastCutoff);
      if (!(await runs.batches.acquireSlot(runId, state.shard, config.batch.maxConcurrentBatches))) {
        return { kind: 'later', delayMs: config.batch.pollIntervalMs };
      }
      if (config.budgetUsd !== undefined && state.reservedUsd === undefined) {
        // A batch is paid for whole: reserve all of its items at the batch price (dearest variant)
        // before creating it — once per shard, and stored with the state in the same write.
        const amount = state.items * estimatedCallUsd(config.pricing, 'batch', undefined, config.wantImage);
        const reserved = await reserveShardBudget(runs, runId, state, amount, config.budgetUsd);
        if (reserved === 'gone') throw new BunchError('E_INTERNAL', `batch shard ${state.shard} of run ${runId} has no state`);
        if (reserved === 'over-budget') {
          await runs.requestStop(runId, 'E_BUDGET');
          return salvageWholeShard(ctx, 'E_BUDGET', false);
        }
        // Settled elsewhere: the state write after this step is refused, and the delivery leaves.
      }
      state.phase = 'submitting';
      return { kind: 'next' };
    }

    case 'submitting':
      // A stopped run, or one past its cutoff, creates nothing: the look-up (to cancel a batch that
      // exists) and the salvage need no lease, and must not wait out one held by a dead delivery.
      if (control.stop || pastCutoff) return submitShard(ctx, control, pastCutoff);
      return submitUnderLease(ctx, control, pastCutoff);

    case 'submitted': {
      const name = state.upstream as string;
      let batch: UpstreamBatch;
      try {
        batch = await getBatch(client, name);
      } catch (error) {
        if (!(error instanceof BunchError) || error.code !== 'E_NOT_FOUND') throw error;
        batch = { name, state: 'MISSING', terminal: true, stats: { requests: 0, succeeded: 0, failed: 0, pending: 0 } };
      }
      state.polls += 1;
      state.upstreamState = batch.state;
      state.stats = batch.stats;
      if (batch.terminal) {
        state.phase = 'collecting';
        ctx.batch = batch;
        return { kind: 'next' };
      }
      if (control.stop || pastCutoff) {
        state.cutShort ??= control.stop ? 'stop' : 'deadline';
        if (state.adopted) {
          // An earlier run's batch of the same content may still serve that run: never ours to
          // cancel. This run no longer waits for it; its items move on (or are cancelled) now.
          return salvageWholeShard(ctx, control.stop, pastCutoff, adoptedLeftReason(state, name));
        }
        const wait = cancelWait(state, config, ctx.now());
        if (wait.kind === 'give-up') {
          state.error = wait.reason.slice(0, 300);
          deps.logger.warn({ runId, shard: state.shard, upstream: name, sent: state.cancel?.sent }, 'a cancelled batch did not end in time: its items move on without it');
          return salvageWholeShard(ctx, control.stop, pastCutoff, wait.reason);
        }
        if (wait.kind === 'send') {
          await cancelBatch(client, name);
          noteCancelSent(state, ctx.now());
        }
        return { kind: 'later', delayMs: Math.max(10, Math.min(config.batch.pollIntervalMs, 1000, wait.untilGiveUpMs)) };
      }
      return { kind: 'later', delayMs: pollDelay(state.polls, config.batch.pollIntervalMs, batchCutoff(config) - ctx.now()) };
    }

    case 'collecting':
      return collectShard(ctx, ctx.batch ?? (await getBatch(client, state.upstream as string)));

    default: {
      const unreachable: never = state.phase;
      throw new BunchError('E_INTERNAL', `unknown shard phase ${String(unreachable)}`);
    }
  }
}

/**
 * The batch has ended: its results (file or inline) are streamed into the run — served items
 * stored and recorded (paid results are kept whatever the batch's final state) — and the rest is
 * salvaged per the job's policy. The shard ends done.
 */
async function collectShard(ctx: ShardContext, batch: UpstreamBatch): Promise<Step> {
  const { deps, config, state } = ctx;
  const { runs, client } = deps;
  const runId = config.runId;
  const targets = await loadShardTargets(ctx.store, runId, state.shard);
  let collected: CollectOutcome | undefined;
  try {
    collected = await collectBatchResults(batch, targets, {
      runs,
      store: ctx.store,
      config,
      client,
      logger: deps.logger,
      onRunComplete: deps.onRunComplete,
      ...(deps.tempRoot ? { tempRoot: deps.tempRoot } : {}),
      ...(state.reservedUsd && state.items > 0 ? { shardShare: { shard: state.shard, amountUsd: state.reservedUsd / state.items } } : {}),
    });
  } catch (error) {
    // A result file that is gone (404) cannot be collected by retrying: its items move on.
    if (!(error instanceof BunchError) || error.retryable) throw error;
    state.error = `${error.code}: ${error.message}`.slice(0, 300);
    deps.logger.error({ runId, shard: state.shard, code: error.code }, 'batch results could not be collected');
  }
  const unserved = `not served by batch ${batch.name} (${batch.state}${batch.error ? `, rpc code ${batch.error.code}: ${(batch.error.message ?? '').slice(0, 200)}` : ''})`;
  const unfinished: UnfinishedItem[] = [...(collected?.unfinished ?? [])];
  for (const target of targets.values()) {
    if (!collected?.answered.has(target.itemKey)) unfinished.push({ target, code: 'E_BATCH', message: unserved });
  }
  // Every answer the batch billed is recorded now: what the shard still holds is for items it
  // did not serve, given back before they move on and reserve their own (a resubmission, the
  // sync lane), so they are never counted twice against the budget.
  await runs.batches.releaseRest(runId, state.shard);
  const stop = (await runs.getControl(runId)).stop;
  const salvaged = await salvageItems(state, unfinished, salvageDeps(ctx), { stop, pastDeadline: state.cutShort === 'deadline' });
  await releaseShardDependants(state.shard, salvageDeps(ctx), ctx.now());
  await writeNextTurnShards(state.shard, collected?.nextTurns ?? [], salvageDeps(ctx), ctx.now());
  state.outcome = {
    succeeded: collected?.succeeded ?? 0,
    failed: (collected?.failed ?? 0) + salvaged.failed + (state.failedForReferences ?? 0),
    skipped: collected?.skipped ?? 0,
    spilled: salvaged.spilled,
    resubmitted: salvaged.resubmitted,
    cancelled: salvaged.cancelled,
  };
  // Done: the job's loop settles it (slot and budget reservation given back once).
  state.phase = 'done';
  deps.logger.info({ runId, shard: state.shard, upstream: batch.name, state: batch.state, ...state.outcome }, 'batch collected');
  return { kind: 'finished', result: 'collected' };
}

/** No batch will serve this shard (stopped, too late, refused): every item moves on now. */
async function salvageWholeShard(ctx: ShardContext, stop: StopReason | undefined, pastCutoff: boolean, reason?: string): Promise<Step> {
  const { state, config } = ctx;
  const targets = await loadShardTargets(ctx.store, config.runId, state.shard);
  const message = reason ?? (stop ? `the run was stopped (${stop})` : 'the run deadline is too close for a batch');
  const items: UnfinishedItem[] = [...targets.values()].map((target: ItemTarget) => ({ target, code: 'E_BATCH', message }));
  if (!reason) state.cutShort = stop ? 'stop' : 'deadline';
  // Its items move on and reserve their own (a new shard, the sync lane): what the shard holds is
  // given back first, as settling would moments later, so they are not counted twice meanwhile.
  await ctx.deps.runs.batches.releaseRest(config.runId, state.shard);
  const salvaged = await salvageItems(state, items, salvageDeps(ctx), { stop, pastDeadline: pastCutoff });
  await releaseShardDependants(state.shard, salvageDeps(ctx), ctx.now());
  state.outcome = { succeeded: 0, failed: salvaged.failed + (state.failedForReferences ?? 0), skipped: 0, spilled: salvaged.spilled, resubmitted: salvaged.resubmitted, cancelled: salvaged.cancelled };
  state.phase = 'done';
  return { kind: 'finished', result: 'salvaged' };
}

/**
 * One delivery at a time looks the batch up and creates it: two deliveries of one job (a
 * redelivery of a job BullMQ thought stalled) could otherwise both find none and create two. The
 * lease is renewed while the step runs (an upload of a big shard and its references can take
 * minutes). Once the batch exists the lease is left to expire: a delivery that waited for it finds
 * the batch by its name. A step that failed (429 on create, a reset) gives it back at once, so the
 * job's next delivery retries without waiting the lease out.
 */
async function submitUnderLease(ctx: ShardContext, control: RunControl, pastCutoff: boolean): Promise<Step> {
  const { runs } = ctx.deps;
  const { runId } = ctx.config;
  const { shard } = ctx.state;
  if (!(await runs.batches.takeCreationLease(runId, shard, ctx.deliveryId, CREATION_LEASE_MS))) {
    return { kind: 'later', delayMs: ctx.config.batch.pollIntervalMs };
  }
  const stopRenewing = keepRenewed(() => runs.batches.renewCreationLease(runId, shard, ctx.deliveryId, CREATION_LEASE_MS), CREATION_LEASE_MS / 3);
  // Checked again right before the create call: a delivery frozen past its lease (another may
  // have taken it and created the batch meanwhile) creates nothing and looks again later.
  const confirmLease = async () => {
    if (!(await runs.batches.renewCreationLease(runId, shard, ctx.deliveryId, CREATION_LEASE_MS))) {
      throw new BunchError('E_INTERNAL', `the creation lease of batch shard ${shard} was lost before its batch was created: creating nothing, looking again later`, { retryable: true });
    }
  };
  try {
    return await submitShard(ctx, control, pastCutoff, confirmLease);
  } catch (error) {
    await runs.batches.releaseCreationLease(runId, shard, ctx.deliveryId).catch(() => undefined);
    throw error;
  } finally {
    stopRenewing();
  }
}

/** This delivery's copy of the shard becomes the stored state (another delivery got further). */
function goOnFrom(ctx: ShardContext, stored: BatchShardState): void {
  const state = ctx.state as unknown as Record<string, unknown>;
  for (const key of Object.keys(state)) delete state[key];
  Object.assign(state, stored);
  ctx.batch = undefined;
}

/** Finds the shard's batch upstream by its name, or creates it; `submitted` either way (or salvaged). */
async function submitShard(ctx: ShardContext, control: RunControl, pastCutoff: boolean, beforeCreate?: () => Promise<void>): Promise<Step> {
  const { deps, config, state } = ctx;
  const { runs, client } = deps;
  const runId = config.runId;
  // Intent is recorded (this state); whatever happened after it, look before creating.
  // First-generation shards may adopt an earlier run's batch of identical content (Redis lost).
  const digest = state.generation === 0 ? displayNameDigest(state.displayName) : undefined;
  const found = await findBatchByDisplayName(client, state.displayName, digest);
  if (found && found.displayName !== state.displayName) {
    deps.logger.warn({ runId, shard: state.shard, upstream: found.name }, 'adopting a batch of identical content from an earlier run');
  }
  if (found) {
    // Another run's batch of the same content may still be serving that run: never ours to cancel on leaving.
    if (found.displayName !== state.displayName) state.adopted = true;
    state.upstream = found.name;
    state.upstreamState = found.state;
    state.phase = 'submitted';
    return { kind: 'next' };
  }
  if (control.stop || pastCutoff) return salvageWholeShard(ctx, control.stop, pastCutoff);
  // Items an earlier delivery already failed (a reference image gone) are not sent now, even if the
  // image is back: they would be made and billed, and their records could not count it.
  const targets = await loadShardTargets(ctx.store, runId, state.shard);
  const terminal = await runs.records.terminalOf(runId, [...targets.values()].map((target) => target.index));
  const done = new Set([...targets.values()].filter((target) => terminal.has(target.index)).map((target) => target.itemKey));
  let created: UpstreamBatch | undefined;
  try {
    created = await createShardBatch(client, ctx.store, {
      runId,
      shard: state.shard,
      model: config.model,
      displayName: state.displayName,
      tempRoot: deps.tempRoot,
      beforeCreate,
      // Recorded before the batch exists: a redelivery finds them terminal and leaves them out.
      onLeftOut: (left) => failLeftOutItems(ctx, targets, left),
      done,
    });
  } catch (error) {
    if (error instanceof BunchError && !error.retryable && error.code !== 'E_STORAGE') {
      if (stopsTheRun(error.code)) await runs.requestStop(runId, error.code);
      state.error = `${error.code}: ${error.message}`.slice(0, 300);
      deps.logger.error({ runId, shard: state.shard, code: error.code }, 'batch creation refused: salvaging the shard');
      const stop = stopsTheRun(error.code) ? error.code : undefined;
      return salvageWholeShard(ctx, stop, false, `the Batch API refused the shard: ${state.error}`);
    }
    throw error;
  }
  // Every item is recorded already (failed: a reference image gone): there is nothing to submit.
  if (!created) return salvageWholeShard(ctx, undefined, false, 'every item of the shard was recorded before its batch was made (a reference image missing from storage)');
  state.upstream = created.name;
  state.upstreamState = created.state;
  state.phase = 'submitted';
  return { kind: 'later', delayMs: config.batch.pollIntervalMs };
}

/**
 * Items left out of the shard's batch because a reference image they name is missing from storage
 * fail E_REFERENCE now, without a call (salvageItems records a code no retry can fix as failed,
 * whatever the job's policy); the rest of the shard goes on as a batch at the batch price.
 */
async function failLeftOutItems(ctx: ShardContext, targets: ReadonlyMap<string, ItemTarget>, left: ReadonlyMap<string, string>): Promise<void> {
  const items: UnfinishedItem[] = [];
  for (const [itemKey, message] of left) {
    const target = targets.get(itemKey);
    if (target) items.push({ target, code: 'E_REFERENCE', message });
  }
  const failed = await salvageItems(ctx.state, items, salvageDeps(ctx));
  ctx.state.failedForReferences = (ctx.state.failedForReferences ?? 0) + failed.failed;
  ctx.deps.logger.warn({ runId: ctx.config.runId, shard: ctx.state.shard, items: items.length }, 'items naming a missing reference image left out of the batch');
}

/** A finished shard gives back its concurrency slot and its budget reservation (costs are recorded per item). */
function salvageDeps(ctx: ShardContext): SalvageDeps {
  const { deps } = ctx;
  return {
    runs: deps.runs,
    store: ctx.store,
    config: ctx.config,
    generateQueue: deps.generateQueue,
    batchQueue: deps.batchQueue,
    logger: deps.logger,
    onRunComplete: deps.onRunComplete,
    ...(deps.tempRoot ? { tempRoot: deps.tempRoot } : {}),
  };
}

/**
 * This delivery found its shard settled by another process (it lost its lock; BullMQ failed the
 * job and its salvage ran). The settler gave back what the stored state held (a reservation is
 * stored as it is made); what this delivery took since is undone here: the batch slot (a done
 * shard holds none), and a batch it created or adopted that the settler could not know of
 * (cancelled, best effort, so it stops serving — and billing — items that have moved on).
 */
async function leaveSettledShard(ctx: ShardContext): Promise<void> {
  const { deps, state, config } = ctx;
  await deps.runs.batches.releaseSlot(config.runId, state.shard);
  const settled = await readShardState(deps.runs, config.runId, state.shard);
  if (state.upstream && !state.adopted && settled?.upstream !== state.upstream) {
    await cancelBatch(deps.client, state.upstream).catch((error: unknown) =>
      deps.logger.warn({ runId: config.runId, shard: state.shard, err: error }, 'could not cancel a batch of a shard settled elsewhere'),
    );
  }
}

/** Backs off from `intervalMs` by 1.5× per poll, capped, and never sleeps past the deadline cutoff. */
export function pollDelay(polls: number, intervalMs: number, untilCutoffMs: number): number {
  const grown = intervalMs * 1.5 ** Math.min(polls, 30);
  const cap = Math.max(intervalMs, Math.min(intervalMs * 10, MAX_POLL_DELAY_MS));
  return Math.max(10, Math.min(grown, cap, Math.max(untilCutoffMs, 10)));
}

/**
 * BullMQ gave up on a shard job (it kept failing in an unexpected way): its unfinished items are
 * salvaged per the job's policy so the run still completes and nothing is lost silently. Safe to
 * call more than once, and at once from two processes.
 */
export async function abandonShard(deps: BatchProcessorDeps, runId: string, shard: string, reason: string): Promise<void> {
  const { config, store } = await deps.contexts.get(runId);
  const state = await readShardState(deps.runs, runId, shard);
  if (!state || state.phase === 'done') return;
  const ctx: ShardContext = { deps, config, store, state, now: deps.now ?? Date.now, batch: undefined, deliveryId: randomUUID() };
  await giveUpOnShard(ctx, `the batch lane gave up on this shard: ${reason.slice(0, 200)}`);
  // Another process may be salvaging the same job at once (its `failed` event and a sweep):
  // salvaging is safe to repeat, and only the first to settle gives the reservation back.
  const replaced = await settleShardState(deps.runs, runId, state);
  if (replaced) await cancelBatchUnknownTo(ctx, replaced);
  else deps.logger.info({ runId, shard }, 'an abandoned shard was settled by another process first');
}

/**
 * The state a settle replaced may name an upstream batch the settler's copy did not (a salvager
 * that read the shard before a live delivery created its batch): the shard's items have moved on,
 * so that batch is cancelled (best effort) rather than left serving — and billing — them. A batch
 * adopted from another run may still serve that run and is left alone.
 */
async function cancelBatchUnknownTo(ctx: ShardContext, replaced: BatchShardState | undefined): Promise<void> {
  const { deps, state, config } = ctx;
  if (!replaced?.upstream || replaced.adopted || replaced.upstream === state.upstream) return;
  await cancelBatch(deps.client, replaced.upstream).catch((error: unknown) =>
    deps.logger.warn({ runId: config.runId, shard: state.shard, err: error }, 'could not cancel a batch the settled state named'),
  );
}

/**
 * Gives up on a shard: a batch that exists upstream is cancelled first (best effort), so it stops
 * serving — and billing — items that are now moved on; then every unfinished item is salvaged.
 */
async function giveUpOnShard(ctx: ShardContext, reason: string): Promise<Step> {
  const { deps, state, config } = ctx;
  if (!state.upstream && state.phase === 'submitting') {
    // Its delivery may have created the batch and died before writing it down: look it up by its
    // own name (never another run's batch of the same content, which may still serve that run).
    const found = await findBatchByDisplayName(deps.client, state.displayName).catch((error: unknown) => {
      deps.logger.warn({ runId: config.runId, shard: state.shard, err: error }, 'could not look for an abandoned batch upstream');
      return undefined;
    });
    if (found?.displayName === state.displayName) {
      state.upstream = found.name;
      state.phase = 'submitted';
    }
  }
  // A batch adopted from an earlier run may still serve that run: it is left alone.
  if (state.upstream && state.phase === 'submitted' && !state.adopted) {
    await cancelBatch(deps.client, state.upstream).catch((error: unknown) =>
      deps.logger.warn({ runId: config.runId, shard: state.shard, err: error }, 'could not cancel an abandoned batch upstream'),
    );
  }
  if (state.upstream && (state.phase === 'submitted' || state.phase === 'collecting')) {
    const collected = await collectBeforeGivingUp(ctx, state.upstream);
    if (collected) return collected;
  }
  const stop = (await deps.runs.getControl(config.runId)).stop;
  return salvageWholeShard(ctx, stop, false, reason);
}

/**
 * What the batch served was billed: once it has ended (a cancel ends a running batch with what it
 * served so far) its answers are collected like any batch's, and only the items it did not serve
 * move on — rather than all of them, to be paid for again on the sync lane. Best effort: a batch
 * that cannot be read (the Batch API down may be why the shard is given up) or has not ended yet
 * leaves every unfinished item to move on as before; what was recorded before a failure stays.
 */
async function collectBeforeGivingUp(ctx: ShardContext, upstream: string): Promise<Step | undefined> {
  const { deps, config, state } = ctx;
  try {
    const batch = await getBatch(deps.client, upstream);
    if (!batch.terminal) return undefined;
    state.upstreamState = batch.state;
    state.stats = batch.stats;
    state.phase = 'collecting';
    return await collectShard(ctx, batch);
  } catch (error) {
    deps.logger.warn({ runId: config.runId, shard: state.shard, err: error }, 'could not collect what an abandoned batch served: its items move on');
    return undefined;
  }
}
