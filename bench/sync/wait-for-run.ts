import type { ManifestLine } from '../../src/manifest/manifest-line.js';
import { TERMINAL_RUN_STATUSES } from '../../src/runs/run-config.js';
import type { RunMeta, RunStore } from '../../src/runs/run-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

/** How often the run's state is read while waiting; small next to any run the bench times. */
const POLL_MS = 10;
/** A bench run that is not done after this long is broken, not slow. */
const RUN_DEADLINE_MS = 5 * 60_000;

/**
 * Resolves with the run's state once it is terminal (finalized: manifest and summary written).
 * Fails unless every item ended `expected` (succeeded; skipped for a re-run): a bench of failures
 * measures a different workload.
 */
export async function waitForRun(runs: RunStore, runId: string, items: number, expected: 'succeeded' | 'skipped' = 'succeeded'): Promise<RunMeta> {
  const deadline = Date.now() + RUN_DEADLINE_MS;
  for (;;) {
    const meta = await runs.getMeta(runId);
    if (meta && TERMINAL_RUN_STATUSES.includes(meta.status)) {
      if (meta.status !== 'succeeded' || meta.counts[expected] !== items) {
        throw new Error(`bench run ${runId} ended ${meta.status} with counts ${JSON.stringify(meta.counts)} and errors ${JSON.stringify(meta.errors)}`);
      }
      return meta;
    }
    if (Date.now() > deadline) throw new Error(`bench run ${runId} not finished after ${RUN_DEADLINE_MS} ms: ${JSON.stringify(meta?.counts)}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function readRunManifest(store: ObjectStore, runId: string): Promise<ManifestLine[]> {
  const body = await store.get(`runs/${runId}/manifest.jsonl`);
  if (!body) throw new Error(`run ${runId} has no manifest`);
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ManifestLine);
}
