/**
 * Where one shard is in its life, kept as a small JSON value in the run's `shards` hash
 * (`<p>:run:{id}:shards`, read together with the meta, so `bunch status` shows it with no extra
 * round trip). The shard's own BullMQ job writes it as it goes. The last write — phase `done`, the
 * slot and the budget reservation given back — is made once (settleShardState), and `done` is
 * final: no later write changes it. A shard's budget is reserved once, in the same write as the
 * state that holds it (reserveShardBudget). A job BullMQ failed for good is salvaged outside it,
 * possibly by two processes at once (its `failed` event and a sweep), while a delivery that lost
 * its lock may still be running.
 */
import type { RunMeta, RunStore } from '../../runs/run-store.js';

export type ShardPhase = 'planned' | 'submitting' | 'submitted' | 'collecting' | 'done';

export interface ShardOutcome {
  succeeded: number;
  failed: number;
  spilled: number;
  resubmitted: number;
  cancelled: number;
  skipped: number;
}

export interface BatchShardState {
  shard: string;
  items: number;
  /** 0 for a shard cut at planning; n for the n-th resubmission of unfinished items. */
  generation: number;
  phase: ShardPhase;
  /** Deterministic per (run, shard): the key that makes creation idempotent. */
  displayName: string;
  /** `batches/<id>` once known. */
  upstream?: string;
  /** The batch was found under an earlier run's name (same content), not created for this shard. */
  adopted?: boolean;
  /** Upstream state without prefix (PENDING, RUNNING, SUCCEEDED, ...). */
  upstreamState?: string;
  stats?: { requests: number; succeeded: number; failed: number; pending: number };
  polls: number;
  /** Consecutive transient failures of the current step (drives backoff). */
  retries: number;
  /** Why the shard was cut short: the run's deadline, or a stop request. */
  cutShort?: 'deadline' | 'stop';
  /**
   * When the shard first asked for its batch to be cancelled (ms since the epoch), when it last
   * asked, and how often: a cancel is sent again at most once a minute, and a batch that has not
   * ended a grace period after the first is no longer waited for (cancel-wait.ts).
   */
  cancel?: { firstAt: number; lastAt: number; sent: number };
  outcome?: ShardOutcome;
  /** Items failed E_REFERENCE at submission (a reference image missing from storage), left out of the batch. */
  failedForReferences?: number;
  error?: string;
  /** Budget reserved for this shard's items at the batch price; released when the shard is done. */
  reservedUsd?: number;
  updatedAt: string;
}

/**
 * `bunch:<runId>:<shard>:<digest16>`. The run and shard make creation idempotent within a run;
 * the content digest (item keys and inputHashes) lets a later run that lost its Redis state
 * recognise a batch it already paid for (see findBatchForContent).
 */
export function shardDisplayName(runId: string, shard: string, digest: string): string {
  return `bunch:${runId}:${shard}:${digest.slice(0, 16)}`;
}

/** The digest part of a display name made by shardDisplayName, if any. */
export function displayNameDigest(displayName: string | undefined): string | undefined {
  const match = displayName ? /^bunch:.+:([0-9a-f]{16})$/.exec(displayName) : null;
  return match?.[1];
}

export async function readShardState(runs: RunStore, runId: string, shard: string): Promise<BatchShardState | undefined> {
  const text = await runs.batches.getState(runId, shard);
  return text ? (JSON.parse(text) as BatchShardState) : undefined;
}

/** Writes a new shard's first state, unless the shard has one already (false): never resets a shard. */
export async function createShardState(runs: RunStore, runId: string, state: BatchShardState): Promise<boolean> {
  return runs.batches.createState(runId, state.shard, JSON.stringify(state));
}

/**
 * Writes a shard's state as it goes: 'done' (nothing written) when the stored shard is done
 * already; 'behind' (nothing written) when the stored state got further than `state` (another
 * delivery of the same job), which the writer then goes on from.
 */
export async function writeShardState(runs: RunStore, runId: string, state: BatchShardState): Promise<'written' | 'done' | 'behind'> {
  state.updatedAt = new Date().toISOString();
  return runs.batches.setState(runId, state.shard, JSON.stringify(state));
}

/**
 * Writes a shard's final state (phase `done`) with its slot freed and the budget reservation the
 * stored state holds given back, once (RunBatches.settle). Returns the state it replaced — which
 * may know more than `state` (a salvager's copy read before a delivery reserved or created its
 * batch) — or undefined when another step or process had settled it already (the stored state is
 * theirs).
 */
export async function settleShardState(runs: RunStore, runId: string, state: BatchShardState): Promise<BatchShardState | undefined> {
  if (state.reservedUsd !== undefined) state.reservedUsd = 0;
  state.updatedAt = new Date().toISOString();
  const replaced = await runs.batches.settle(runId, state.shard, JSON.stringify(state));
  return replaced === undefined ? undefined : (JSON.parse(replaced) as BatchShardState);
}

/**
 * Reserves a shard's budget and moves it to `submitting` in one write (RunBatches.reserve), once
 * per shard. On 'reserved', `state.reservedUsd` is what the stored state holds: the reservation
 * made now, or the one another delivery of the same job made first. 'over-budget', 'settled'
 * (the shard is done elsewhere) and 'gone' (no state: its run's keys are gone) wrote nothing.
 */
export async function reserveShardBudget(
  runs: RunStore,
  runId: string,
  state: BatchShardState,
  amountUsd: number,
  limitUsd: number,
): Promise<'reserved' | 'over-budget' | 'settled' | 'gone'> {
  const next: BatchShardState = { ...state, phase: 'submitting', reservedUsd: amountUsd, updatedAt: new Date().toISOString() };
  const outcome = await runs.batches.reserve(runId, state.shard, amountUsd, limitUsd, JSON.stringify(next));
  if (outcome.kind !== 'reserved' && outcome.kind !== 'held') return outcome.kind;
  state.reservedUsd = outcome.kind === 'held' ? outcome.amountUsd : amountUsd;
  return 'reserved';
}

/** Every shard of a run, in shard order, from an already-read meta. */
export function shardStatesOf(meta: RunMeta): BatchShardState[] {
  return Object.values(meta.shards)
    .map((value) => JSON.parse(value) as BatchShardState)
    .sort((a, b) => (a.shard < b.shard ? -1 : a.shard > b.shard ? 1 : 0));
}

export function newShardState(runId: string, shard: string, items: number, generation: number, digest: string): BatchShardState {
  return {
    shard,
    items,
    generation,
    phase: 'planned',
    displayName: shardDisplayName(runId, shard, digest),
    polls: 0,
    retries: 0,
    updatedAt: new Date().toISOString(),
  };
}
