/**
 * The console's Retry button: the code `bunch retry` calls, answered within a bound. A big
 * catalog plans for longer than a browser or a proxy waits (and a user who sees nothing clicks
 * again), so past RETRY_ANSWER_WITHIN_MS the answer is the new run's page while planning goes on;
 * the items left out (inputs changed, rows gone) are noted on that page (`retryLeftOut`) when it
 * ends. A quick planning is answered as before, with the whole message.
 */
import type { Logger } from 'pino';
import { toErrorRecord } from '../errors/bunch-error.js';
import type { RunQueues } from '../lanes/run-queues.js';
import { firstFew, startRetryRun } from '../lanes/start-retry-run.js';
import type { RunStore } from '../runs/run-store.js';
import type { ObjectStore } from '../storage/object-store.js';

export const RETRY_ANSWER_WITHIN_MS = 3000;

export interface ConsoleRetryDeps {
  runs: RunStore;
  queues: RunQueues;
  openStore(url: string): ObjectStore;
  logger: Logger;
  allowPrivateReferences?: boolean;
  retryAnswerWithinMs?: number;
  /** Retries being planned, from the click on: the console's close waits for them. */
  planning?: Set<Promise<unknown>>;
  /** Runs a retry of which is being started from this console: a second click waits for the first. */
  retrying?: Set<string>;
}

/** Starts a retry of `parentId`; answers where to send the browser (with its message). */
export async function retryFromConsole(deps: ConsoleRetryDeps, parentId: string): Promise<string> {
  // A second click (a slow answer, two operators) would start a second retry of the same items.
  if (deps.retrying?.has(parentId)) {
    return runPage(parentId, `A retry of ${parentId} is already being started from this console; its run appears in the run list once it exists.`);
  }
  let created: string | undefined;
  let onCreated: () => void = () => undefined;
  const whenCreated = new Promise<void>((resolve) => (onCreated = resolve));
  const planning = startRetryRun(
    { runs: deps.runs, queues: deps.queues, openStore: deps.openStore, logger: deps.logger, allowPrivateReferences: deps.allowPrivateReferences ?? false },
    parentId,
    {
      onCreated: (runId) => {
        created = runId;
        onCreated();
      },
    },
  );
  // Kept where close() looks from the start: a console stopped within the answer window waits too.
  // Settled here or below; never an unhandled rejection in between.
  track(deps.planning, planning);
  deps.retrying?.add(parentId);
  void planning.then(
    () => deps.retrying?.delete(parentId),
    () => deps.retrying?.delete(parentId),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deps.retryAnswerWithinMs ?? RETRY_ANSWER_WITHIN_MS)));
  // Answered when planning ends, or once the run exists and the wait is over, whichever comes
  // first: a run that was not created yet has no page to show.
  const first = await Promise.race([planning, Promise.all([whenCreated, late]).then(() => 'late' as const)]).finally(() => clearTimeout(timer));
  if (first === 'late' && created) {
    const runId = created;
    deps.logger.info({ runId, parentRunId: parentId }, 'retry started from the console; planning goes on');
    const noted = planning.then(
      async (result) => {
        const note = 'runId' in result ? leftOutNote(result) : '';
        if (note) await deps.runs.setExtra(runId, 'retryLeftOut', note.trim());
      },
      // startRun has stopped the run (it ends `aborted`); its page shows that.
      (error: unknown) => deps.logger.error({ runId, parentRunId: parentId, err: toErrorRecord(error) }, 'retry planning failed'),
    );
    track(deps.planning, noted.catch((error: unknown) => deps.logger.warn({ runId, err: toErrorRecord(error) }, 'retry note not saved')));
    return runPage(runId, `Retry of ${parentId} is being planned; items left out, if any, are named on this page once it is.`);
  }
  const result = await planning;
  if (!('runId' in result)) return runPage(parentId, 'Nothing to retry.');
  deps.logger.info({ runId: result.runId, parentRunId: parentId }, 'retry started from the console');
  return runPage(result.runId, `Retry of ${parentId}: ${result.items} items.${leftOutNote(result)}`);
}

function runPage(runId: string, message: string): string {
  return `/runs/${encodeURIComponent(runId)}?message=${encodeURIComponent(message)}`;
}

/** Holds `work` in the set until it settles (whatever its outcome). */
function track(set: Set<Promise<unknown>> | undefined, work: Promise<unknown>): void {
  const settled = work.then(
    () => undefined,
    () => undefined,
  );
  set?.add(settled);
  void settled.finally(() => set?.delete(settled));
}

/** As `bunch retry` says: items whose inputs changed since the parent, or whose row is gone, are left out and named. */
function leftOutNote(result: { changed: readonly string[]; missing: readonly string[] }): string {
  const changed = result.changed.length > 0 ? ` ${result.changed.length} left out: their inputs changed since (${firstFew(result.changed)}).` : '';
  const missing = result.missing.length > 0 ? ` ${result.missing.length} left out: their row is not in the catalog any more (${firstFew(result.missing)}).` : '';
  return `${changed}${missing}`;
}
