import { SingleBar, Presets } from 'cli-progress';
import type { RunMeta, RunStore } from '../runs/run-store.js';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';

/**
 * Follows a run until its status is final, drawing a progress bar on stderr when it is a
 * terminal (scripts get a quiet stderr). Polls the run's small meta hash; no per-item traffic.
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
  } = {},
): Promise<RunMeta> {
  const intervalMs = options.intervalMs ?? 500;
  const bar = options.progress
    ? new SingleBar(
        { format: ' {bar} {percentage}% | {value}/{total} items | failed {failed} | ${cost} | ETA {eta_formatted}', stream: process.stderr },
        Presets.shades_classic,
      )
    : undefined;
  let started = false;
  let stuckPolls = 0;
  try {
    for (;;) {
      const meta = await runs.getMeta(runId);
      if (!meta) throw new Error(`run ${runId} disappeared from Redis`);
      const total = meta.total ?? Math.max(meta.terminal, 1);
      const payload = { failed: meta.counts.failed, cost: meta.costUsd.toFixed(2) };
      if (bar && !started) {
        bar.start(total, meta.terminal, payload);
        started = true;
      } else if (bar) {
        bar.setTotal(total);
        bar.update(meta.terminal, payload);
      }
      if (TERMINAL_RUN_STATUSES.includes(meta.status)) return meta;
      if (options.requestFinalize && (await runs.needsFinalize(runId))) {
        stuckPolls += 1;
        // A few polls of grace: normally the worker that recorded the last item asks at once.
        if (stuckPolls === 4) await options.requestFinalize(runId);
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
