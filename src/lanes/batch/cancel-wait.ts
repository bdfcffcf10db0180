/**
 * Waiting for a cancelled batch to end. A shard cut short (its run stopped, or past the deadline
 * cutoff) cancels its batch and polls until the batch ends, to collect what it served — answers
 * that were billed. The API may accept a cancel and take its time honouring it, or drop it: the
 * cancel is sent again at most once a minute, and a batch that has not ended a grace period after
 * the first cancel is no longer waited for. Its items then move on without it (cancelled for a
 * stopped run; per `batch.onUnfinished` past the deadline, where an item the batch serves later
 * is paid for twice — the price of finishing the run in time). Before, the shard re-sent the
 * cancel every second for as long as the batch stayed up (up to the API's 48 h expiry).
 */
import type { RunConfig } from '../../runs/run-config.js';
import { batchCutoff, runDeadline } from './batch-deadline.js';
import type { BatchShardState } from './shard-state.js';

/** A stopped run waits this long for its cancelled batch to end. */
export const STOP_CANCEL_GRACE_MS = 10 * 60_000;
/** A cancel is sent again when the batch has not ended this long after the last one. */
export const CANCEL_RESEND_MS = 60_000;

export type CancelWait =
  | { kind: 'send'; untilGiveUpMs: number }
  | { kind: 'wait'; untilGiveUpMs: number }
  | { kind: 'give-up'; reason: string };

/**
 * How long a shard waits for its batch after the first cancel: a stopped run ten minutes; one
 * past its cutoff half the margin the cutoff leaves before the deadline (at most ten minutes), so
 * the items that move on still have the other half to finish on the sync lane.
 */
export function cancelGraceMs(state: Pick<BatchShardState, 'cutShort'>, config: Pick<RunConfig, 'createdAt' | 'batch'>): number {
  if (state.cutShort === 'stop') return STOP_CANCEL_GRACE_MS;
  const margin = runDeadline(config) - batchCutoff(config);
  return Math.min(STOP_CANCEL_GRACE_MS, Math.max(0, Math.round(margin / 2)));
}

/** What a cut-short shard whose batch is still up does now: send a cancel, wait, or stop waiting. */
export function cancelWait(state: BatchShardState, config: Pick<RunConfig, 'createdAt' | 'batch'>, now: number): CancelWait {
  const grace = cancelGraceMs(state, config);
  if (!state.cancel) return { kind: 'send', untilGiveUpMs: grace };
  const untilGiveUpMs = state.cancel.firstAt + grace - now;
  if (untilGiveUpMs <= 0) {
    const sent = state.cancel.sent;
    return {
      kind: 'give-up',
      reason: `batch ${state.upstream ?? '?'} was cancelled (${sent} request${sent === 1 ? '' : 's'}) and had not ended ${formatMs(grace)} later`,
    };
  }
  return { kind: now - state.cancel.lastAt >= CANCEL_RESEND_MS ? 'send' : 'wait', untilGiveUpMs };
}

export function noteCancelSent(state: BatchShardState, now: number): void {
  state.cancel = { firstAt: state.cancel?.firstAt ?? now, lastAt: now, sent: (state.cancel?.sent ?? 0) + 1 };
}

/** Why a shard cut short leaves a batch it adopted from an earlier run without cancelling it. */
export function adoptedLeftReason(state: Pick<BatchShardState, 'cutShort'>, upstream: string): string {
  const why = state.cutShort === 'stop' ? 'the run was stopped' : "the run's deadline cutoff passed";
  return `${why} before batch ${upstream} ended; it was adopted from an earlier run of the same content and is left to serve that run`;
}

function formatMs(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}
