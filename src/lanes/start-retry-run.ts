import type { Logger } from 'pino';
import { BunchError } from '../errors/bunch-error.js';
import { outputUrlOf } from '../runs/run-config-from-job.js';
import { RETAIN_SECONDS, type RunMeta, type RunStore } from '../runs/run-store.js';
import type { ResolvedJob } from '../spec/resolved-job.js';
import { loadJobFile } from '../spec/load-job-file.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { RunQueues } from './run-queues.js';
import { selectFromParent, type RetryFilter } from './retry-selection.js';
import { startRun, type StartedRun } from './start-run.js';

/**
 * A retry of a finished run: a new run of the parent's failed (and cancelled) items — or those of
 * some codes or keys — planned from the job file again and checked to have the same inputs
 * (items whose inputs changed are left out and named). `bunch retry` and the console's retry
 * button both start retries here.
 */
export interface RetryRunDeps {
  runs: RunStore;
  queues: RunQueues;
  openStore(url: string): ObjectStore;
  logger: Logger;
  allowPrivateReferences?: boolean;
}

/**
 * `notInParent`: keys asked for (`--keys`) that name no item of the parent run. `changed`: items
 * left out because their inputs changed since; `missing`: items whose row the catalog no longer
 * has (removed, its key edited, or a record that no longer parses to a key).
 */
export type RetryRunResult =
  | { parentRunId: string; selected: 0; notInParent: string[] }
  | (StartedRun & { parentRunId: string; selected: number; changed: string[]; missing: string[]; notInParent: string[] });

export async function startRetryRun(
  deps: RetryRunDeps,
  parentRunId: string,
  options: { filter?: RetryFilter; jobFile?: string; onCreated?: (runId: string) => void } = {},
): Promise<RetryRunResult> {
  const parent = await deps.runs.getMeta(parentRunId);
  if (!parent && !options.jobFile) {
    throw new BunchError(
      'E_NOT_FOUND',
      `run ${parentRunId} is not known to this Redis (a run's record is kept ${RETAIN_SECONDS / 86_400} days after it ends): give its job file with --job to retry it from the manifest in its output location`,
    );
  }
  // A parent whose record has expired is found through the job file: its manifest lies where the
  // job writes its outputs, and it is written only once the run has ended.
  const job = options.jobFile ? await loadJobFile(options.jobFile) : undefined;
  const outputUrl = parent?.config.outputUrl ?? outputUrlOf(job as ResolvedJob);
  const store = deps.openStore(outputUrl);
  let selection;
  try {
    selection = await selectFromParent(store, parentRunId, options.filter ?? {});
  } finally {
    await store.close();
  }
  const { notInParent } = selection;
  if (selection.itemKeys.size === 0) return { parentRunId, selected: 0, notInParent };
  const planned = job ?? (await loadJobFile((parent as RunMeta).config.jobFile));
  const changed: string[] = [];
  const missing: string[] = [];
  const started = await startRun(planned, { runs: deps.runs, queues: deps.queues, openStore: deps.openStore, logger: deps.logger }, {
    allowPrivateReferences: deps.allowPrivateReferences ?? false,
    parentRunId,
    ...(options.onCreated ? { onCreated: options.onCreated } : {}),
    select: { ...selection, onChanged: (itemKey) => void changed.push(itemKey), onMissing: (itemKey) => void missing.push(itemKey) },
  });
  return { ...started, parentRunId, selected: selection.itemKeys.size, changed, missing: missing.sort(), notInParent };
}

/** The first few keys of a list for a message (`A, B, C, D, E, …`). */
export function firstFew(keys: readonly string[]): string {
  return `${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`;
}
