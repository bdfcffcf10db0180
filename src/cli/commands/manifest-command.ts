import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { BunchError } from '../../errors/bunch-error.js';
import { EXPORT_STATUSES, exportManifest, type ExportOptions, type ExportStatus } from '../../export/export-manifest.js';
import { LinkSigner, MAX_LINK_SECONDS } from '../../export/presign-link.js';
import { parseDuration } from '../../spec/parse-duration.js';
import { openObjectStore } from '../../storage/open-object-store.js';
import { openControlPlane } from '../control-plane.js';
import { requireRedisUrl, resolveSettings } from '../resolve-settings.js';

interface ManifestFlags {
  status?: string;
  format?: string;
  output?: string;
  expires?: string;
  json?: boolean;
  redisUrl?: string;
  prefix?: string;
}

/**
 * `bunch manifest <runId>`: a run's manifest from storage (found through the run's config in
 * Redis), filtered by status, as JSON lines or as CSV for spreadsheets. Flags are checked before
 * anything is opened, so a typo costs no connection. `--output` is written to a side file and
 * renamed at the end: a failed export never leaves a file that looks complete.
 */
export function registerManifestCommand(program: Command): void {
  program
    .command('manifest')
    .description("export a run's manifest: JSON lines, or CSV for spreadsheets (safe against formula injection, with presigned links to s3:// images)")
    .argument('<runId>')
    .option('--status <list>', `only these statuses, comma-separated (${EXPORT_STATUSES.join(', ')})`)
    .option('--format <format>', 'jsonl (the manifest lines as stored) or csv', 'jsonl')
    .option('--output <file>', 'write to this file instead of stdout')
    .option('--expires <duration>', `lifetime of the presigned image links in CSV, e.g. 12h (at most 7d, the S3 limit)`, '7d')
    .option('--json', 'with --output: print {runId, lines, format, output} on stdout')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (runId: string, flags: ManifestFlags) => {
      const format = parseFormat(flags.format);
      const statuses = parseStatuses(flags.status);
      const expiresSeconds = parseExpires(flags.expires);
      if (flags.json && !flags.output) throw new BunchError('E_CONFIG', '--json needs --output (without it, stdout carries the manifest itself)');
      const settings = resolveSettings(flags);
      const plane = await openControlPlane(requireRedisUrl(settings), settings.prefix);
      try {
        const meta = await plane.runs.getMeta(runId);
        if (!meta) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
        const { outputUrl } = meta.config;
        const store = openObjectStore(outputUrl, { s3: settings.s3 });
        const signer = format === 'csv' && outputUrl.startsWith('s3://') ? new LinkSigner(settings.s3, expiresSeconds) : undefined;
        const options: ExportOptions = { format, ...(statuses ? { statuses } : {}), ...(signer ? { signer } : {}) };
        try {
          if (!flags.output) {
            await exportToStdout(() => exportManifest(store, runId, process.stdout, options));
            return;
          }
          const lines = await exportToFile(flags.output, (out) => exportManifest(store, runId, out, options));
          if (flags.json) process.stdout.write(JSON.stringify({ runId, lines, format, output: flags.output }) + '\n');
        } finally {
          signer?.close();
          await store.close();
        }
      } finally {
        await plane.close();
      }
    });
}

function parseFormat(value: string | undefined): ExportOptions['format'] {
  if (value === 'jsonl' || value === 'csv') return value;
  throw new BunchError('E_CONFIG', `--format must be jsonl or csv, not ${JSON.stringify(value)}`);
}

function parseStatuses(value: string | undefined): ReadonlySet<ExportStatus> | undefined {
  if (value === undefined) return undefined;
  const statuses = new Set<ExportStatus>();
  for (const status of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const known = EXPORT_STATUSES.find((candidate) => candidate === status);
    if (!known) throw new BunchError('E_CONFIG', `--status ${status} is not one of ${EXPORT_STATUSES.join(', ')}`);
    statuses.add(known);
  }
  if (statuses.size === 0) throw new BunchError('E_CONFIG', `--status names no status (one or more of ${EXPORT_STATUSES.join(', ')})`);
  return statuses;
}

/** Seconds; a unit is required (a bare number would be milliseconds in job files, a surprise here). */
function parseExpires(value: string | undefined): number {
  const ms = value !== undefined && /[a-z]\s*$/i.test(value) ? parseDuration(value) : undefined;
  if (ms === undefined || ms < 1000 || ms > MAX_LINK_SECONDS * 1000) {
    throw new BunchError('E_CONFIG', `--expires ${JSON.stringify(value)} must be a duration with a unit from 1s to 7d (e.g. 12h)`);
  }
  return Math.floor(ms / 1000);
}

/** A reader that stops early (`bunch manifest … | head`) closes the pipe: that is not a failure. */
async function exportToStdout(run: () => Promise<number>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  }
}

async function exportToFile(file: string, run: (out: WriteStream) => Promise<number>): Promise<number> {
  const partial = `${file}.partial-${process.pid}`;
  const out = createWriteStream(partial, { flags: 'wx' });
  try {
    await once(out, 'open');
  } catch (error) {
    throw new BunchError('E_CONFIG', `cannot write --output ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const lines = await run(out);
    out.end();
    await finished(out);
    await rename(partial, file);
    return lines;
  } catch (error) {
    out.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}
