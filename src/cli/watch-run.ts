import { BunchError } from '../errors/bunch-error.js';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';
import type { RunMeta, RunStore } from '../runs/run-store.js';
import { answerWithin } from '../redis/answer-within.js';
import { describeRun, describeRunLine } from './describe-run.js';
import { POLL_ANSWER_MS } from './follow-run.js';

export interface WatchOptions {
  intervalMs: number;
  /** Redraw the full view in place (a terminal); otherwise one line per interval. */
  redraw: boolean;
  write(text: string): void;
  /** How long Redis may stay unreachable before giving up (the run goes on either way). */
  outageToleranceMs?: number;
  /** How long one poll may wait for Redis before it counts as an outage (default 10 s). */
  pollAnswerMs?: number;
}

/**
 * `bunch status <runId> --watch`: the run's view, refreshed every interval until the run ends.
 * A Redis restart is waited out (one line saying so); the run's own outcome decides the exit.
 */
export async function watchRun(runs: RunStore, runId: string, options: WatchOptions): Promise<RunMeta> {
  const tolerance = options.outageToleranceMs ?? 10 * 60_000;
  let downSince: number | undefined;
  for (;;) {
    let meta: RunMeta | undefined;
    const polledAt = Date.now();
    try {
      meta = await answerWithin(runs.getMeta(runId), options.pollAnswerMs ?? POLL_ANSWER_MS, `run ${runId}'s state`);
      downSince = undefined;
    } catch (error) {
      // Unreachable or frozen (no answer within the bound): the outage began when this poll did.
      downSince ??= polledAt;
      if (Date.now() - downSince > tolerance) throw error;
      options.write(`${new Date().toISOString().slice(11, 19)} Redis unreachable for ${Math.round((Date.now() - downSince) / 1000)} s; the run continues on the workers\n`);
    }
    if (meta === undefined && downSince === undefined) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
    if (meta) {
      const ended = TERMINAL_RUN_STATUSES.includes(meta.status);
      if (options.redraw) options.write(`\x1b[H\x1b[2J${describeRun(meta)}\n`);
      else if (!ended) options.write(describeRunLine(meta) + '\n');
      if (ended) {
        if (!options.redraw) options.write(describeRun(meta) + '\n');
        return meta;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}
