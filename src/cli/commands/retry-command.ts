import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { BunchError } from '../../errors/bunch-error.js';
import { createLogger } from '../../logging/create-logger.js';
import { parseRetryCodes } from '../../lanes/retry-selection.js';
import { firstFew, startRetryRun } from '../../lanes/start-retry-run.js';
import { requestFinalize } from '../../lanes/run-queues.js';
import { openObjectStore } from '../../storage/open-object-store.js';
import { openControlPlane } from '../control-plane.js';
import { describeRun } from '../describe-run.js';
import { EXIT } from '../exit-codes.js';
import { followRun } from '../follow-run.js';
import { requireRedisUrl, resolveSettings } from '../resolve-settings.js';

interface RetryFlags {
  codes?: string;
  keys?: string;
  job?: string;
  wait?: boolean;
  json?: boolean;
  redisUrl?: string;
  prefix?: string;
}

export function registerRetryCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('retry')
    .description("start a new run holding a run's failed (and cancelled) items with their original inputs; succeeded items are never paid again")
    .argument('<runId>', 'the run to retry (it must have ended)')
    .option('--codes <codes>', 'only items that failed with these codes, comma-separated (e.g. E_UPSTREAM,E_TIMEOUT)')
    .option('--keys <file>', 'only these items: a file with one item key (SKU-1#hero) or row key (SKU-1) per line')
    .option('--job <file>', "the job file to plan from (default: the parent run's; needed once the parent's record has left Redis, 30 days after it ended)")
    .option('--wait', 'follow the new run until it ends; exit 0 only if it succeeded')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (parentRunId: string, flags: RetryFlags) => {
      const settings = resolveSettings(flags);
      const logger = createLogger({ level: settings.logLevel });
      const plane = await openControlPlane(requireRedisUrl(settings), settings.prefix);
      try {
        const openStore = (url: string) => openObjectStore(url, { s3: settings.s3 });
        const filter = {
          ...(flags.codes !== undefined ? { codes: parseRetryCodes(flags.codes) } : {}),
          ...(flags.keys ? { keys: await readKeys(flags.keys) } : {}),
        };
        const result = await startRetryRun(
          { runs: plane.runs, queues: plane.queues, openStore, logger, allowPrivateReferences: settings.allowPrivateReferences },
          parentRunId,
          { filter, ...(flags.job ? { jobFile: flags.job } : {}) },
        );
        const notInParent = result.notInParent;
        const unknownNote = notInParent.length
          ? `\n${notInParent.length} key(s) not in run ${parentRunId}: ${firstFew(notInParent)}`
          : '';
        if (!('runId' in result)) {
          print(flags.json, result, () => `run ${parentRunId}: nothing to retry${unknownNote}`);
          return;
        }
        const { changed, missing } = result;
        const started = result;
        const changedNote =
          (changed.length
            ? `\n${changed.length} item(s) left out: their inputs changed since run ${parentRunId} (${firstFew(changed)})`
            : '') +
          (missing.length ? `\n${missing.length} item(s) left out: their row is not in the catalog any more, or no longer reads to its key (${firstFew(missing)})` : '') +
          unknownNote;
        if (!flags.wait) {
          print(flags.json, result, () => `run ${started.runId} started: retry of ${parentRunId}, ${started.items} items (${started.skipped} already stored)${changedNote}\nfollow it with: bunch status ${started.runId}`);
          return;
        }
        const meta = await followRun(plane.runs, started.runId, {
          progress: !flags.json && process.stderr.isTTY,
          requestFinalize: (id) => requestFinalize(plane.queues.finalize, id),
        });
        print(flags.json, { ...result, status: meta.status, counts: meta.counts, costUsd: meta.costUsd }, () => describeRun(meta) + changedNote);
        setExitCode(meta.status === 'succeeded' ? EXIT.ok : EXIT.runFailed);
      } finally {
        await plane.close();
      }
    });
}

async function readKeys(file: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new BunchError('E_CONFIG', `--keys ${file} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  return new Set(text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line && !line.startsWith('#')));
}

function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : human() + '\n');
}
