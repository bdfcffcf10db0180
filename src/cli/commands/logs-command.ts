import type { Command } from 'commander';
import { BunchError } from '../../errors/bunch-error.js';
import type { AttemptEntry } from '../../runs/attempt-entry.js';
import { findItemStory, type ItemStory } from '../../lanes/item-story.js';
import { openObjectStore } from '../../storage/open-object-store.js';
import { openControlPlane } from '../control-plane.js';
import { requireRedisUrl, resolveSettings } from '../resolve-settings.js';

export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description("one item's story: every call and wait, with time, outcome, HTTP status, latency, the retry delay chosen and the worker")
    .argument('<runId>')
    .argument('<itemKey>', 'the item, as in the manifest: <key>#<variant>')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (runId: string, itemKey: string, flags: { json?: boolean; redisUrl?: string; prefix?: string }) => {
      const settings = resolveSettings(flags);
      const plane = await openControlPlane(requireRedisUrl(settings), settings.prefix);
      try {
        const meta = await plane.runs.getMeta(runId);
        if (!meta) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
        const store = openObjectStore(meta.config.outputUrl, { s3: settings.s3 });
        try {
          const story = await findItemStory(plane.runs, store, plane.queues.generate, runId, itemKey);
          if (!story) throw new BunchError('E_NOT_FOUND', `run ${runId} has no item ${itemKey} (item keys look like <key>#<variant>; see the manifest)`);
          process.stdout.write(flags.json ? JSON.stringify(story) + '\n' : describeStory(story) + '\n');
        } finally {
          await store.close();
        }
      } finally {
        await plane.close();
      }
    });
}

export function describeStory(story: ItemStory): string {
  const record = story.record;
  const head = record
    ? `${story.itemKey} in run ${story.runId}: ${record.status}${record.errorCode ? ` ${record.errorCode}` : ''} after ${record.attempts} attempt(s), lane ${record.lane}`
    : `${story.itemKey} in run ${story.runId}: not finished (job ${story.state})`;
  const lines = [head, ...story.steps.map(describeStep)];
  if (record?.errorMessage) lines.push(`  message  ${record.errorMessage}`);
  return lines.join('\n');
}

function describeStep(step: AttemptEntry): string {
  const cells = [
    step.at,
    `#${step.attempt}`,
    step.outcome.padEnd(12),
    (step.code ?? '').padEnd(18),
    step.httpStatus ? `HTTP ${step.httpStatus}` : '        ',
    step.latencyMs !== undefined ? `${step.latencyMs} ms`.padStart(9) : ''.padStart(9),
    step.retryDelayMs !== undefined ? `then waits ${step.retryDelayMs} ms` : '',
    step.worker,
    step.note ?? '',
  ];
  return `  ${cells.filter((cell) => cell !== '').join('  ')}`;
}
