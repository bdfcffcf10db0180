import { SingleBar, Presets } from 'cli-progress';
import type { Logger } from 'pino';
import type { RunMeta, RunStore } from '../runs/run-store.js';
import { BunchError } from '../errors/bunch-error.js';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';
import { answerWithin } from '../redis/answer-within.js';

/** Ten minutes: a Redis restart or failover takes seconds; longer is an outage worth reporting. */
export const DEFAULT_OUTAGE_TOLERANCE_MS = 10 * 60_000;
/** A poll not answered within this counts as Redis unreachable (a frozen Redis never answers). */
export const POLL_ANSWER_MS = 10_000;

/**
 * Follows a run until its status is final, drawing a progress bar on stderr when it is a
 * terminal (scripts get a quiet stderr). Polls the run's small meta hash; no per-item traffic.
 * A Redis outage is waited out up to `outageToleranceMs` (the bar says so meanwhile); once Redis is
 * back the run's own outcome is returned, as if nothing had happened.
 */
export async function followRun(
  runs: RunStore,
  runId: string,
  options: {
    intervalMs?: number;
    progress?: boolean;
    signal?: AbortSignal;
    /** Asks for the run's finalization again when every item is terminal but nothing finalized it. */
    requestFinalize?: (runId: string) => Promise<void>;
    /**
     * How long Redis may stay unreachable while following (a restart, a failover) before giving
     * up with E_NETWORK (exit 3). The workers ride such outages out; a cron job's `--wait` must
     * too. Default 10 min (`bunch run` passes --outage-limit / BUNCH_FOLLOW_OUTAGE_LIMIT_MS).
     */
    outageToleranceMs?: number;
    /** Told about each failed poll during an outage, with how long Redis has been unreachable. */
    onRedisTrouble?: (error: Error, downForMs: number) => void;
    /** Where giving up is logged (the outage itself is logged by the connection's outage reporter). */
    logger?: Logger;
    /** How long one poll may wait for Redis before it counts as an outage (default POLL_ANSWER_MS). */
    pollAnswerMs?: number;
  } = {},
): Promise<RunMeta> {
  const intervalMs = options.intervalMs ?? 500;
  const tolerance = options.outageToleranceMs ?? DEFAULT_OUTAGE_TOLERANCE_MS;
  const pollAnswer = options.pollAnswerMs ?? POLL_ANSWER_MS;
  let downSince: number | undefined;
  const bar = options.progress
    ? new SingleBar(
        { format: ' {bar} {percentage}% | {value}/{total} items | failed {failed} | ${cost} | ETA {eta_formatted}{outage}', stream: process.stderr },
        Presets.shades_classic,
      )
    : undefined;
  let started = false;
  let stuckPolls = 0;
  try {
    for (;;) {
      let meta: RunMeta | undefined;
      const polledAt = Date.now();
      try {
        meta = await answerWithin(runs.getMeta(runId), pollAnswer, `run ${runId}'s state`);
      } catch (error) {
        // Redis restarting, failing over or frozen: keep following, within the tolerance.
        const now = Date.now();
        downSince ??= polledAt;
        const cause = error instanceof Error ? error : new Error(String(error));
        if (now - downSince > tolerance) {
          options.logger?.error(
            { runId, downForMs: now - downSince, outageLimitMs: tolerance, err: { message: cause.message } },
            'gave up following the run: Redis unreachable for longer than the outage limit; the run continues on the workers',
          );
          throw new BunchError(
            'E_NETWORK',
            `Redis was unreachable for ${Math.round((now - downSince) / 1000)} s while following run ${runId} (${cause.message}); ` +
              `the run continues on the workers; check it with bunch status ${runId}`,
            { cause },
          );
        }
        options.onRedisTrouble?.(cause, now - downSince);
        // The progress line says so too (a line of its own would break the bar).
        if (bar && started) bar.update({ outage: ` | Redis unreachable ${Math.round((now - downSince) / 1000)} s, still following` });
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
        continue;
      }
      downSince = undefined;
      if (!meta) throw new BunchError('E_NOT_FOUND', `run ${runId} disappeared from Redis`);
      const total = meta.total ?? Math.max(meta.terminal, 1);
      const payload = { failed: meta.counts.failed, cost: meta.costUsd.toFixed(2), outage: '' };
      if (bar && !started) {
        bar.start(total, meta.terminal, payload);
        started = true;
      } else if (bar) {
        bar.setTotal(total);
        bar.update(meta.terminal, payload);
      }
      if (TERMINAL_RUN_STATUSES.includes(meta.status)) return meta;
      if (options.requestFinalize && (await answerWithin(runs.needsFinalize(runId), pollAnswer, 'whether the run needs finalizing').catch(() => false))) {
        stuckPolls += 1;
        // A few polls of grace: normally the worker that recorded the last item asks at once.
        if (stuckPolls === 4) await answerWithin(options.requestFinalize(runId), pollAnswer, 'a request to finalize').catch(() => (stuckPolls = 0));
      } else {
        stuckPolls = 0;
      }
      if (options.signal?.aborted) return meta;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  } finally {
    bar?.stop();
  }
}
