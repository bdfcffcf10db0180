import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { BunchError } from '../../errors/bunch-error.js';
import { EXPORT_STATUSES, exportManifest } from '../../export/export-manifest.js';
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

export function registerManifestCommand(program: Command): void {
  program
    .command('manifest')
    .description("export a run's manifest: JSON lines, or CSV for spreadsheets (safe against formula injection, with presigned links to s3:// images)")
    .argument('<runId>')
    .option('--status <list>', `only these statuses, comma-separated (${EXPORT_STATUSES.join(', ')})`)
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--output <file>', 'write to this file instead of stdout')
    .option('--expires <duration>', 'lifetime of presigned image links in CSV (at most 7d)', '7d')
    .option('--json', 'with --output: print a JSON result on stdout')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (runId: string, flags: ManifestFlags) => {
      const format = flags.format === 'csv' || flags.format === 'jsonl' ? flags.format : undefined;
      if (!format) throw new BunchError('E_CONFIG', `--format must be jsonl or csv, not "${flags.format}"`);
      const statuses = flags.status ? new Set(flags.status.split(',').map((status) => status.trim())) : undefined;
      for (const status of statuses ?? []) {
        if (!(EXPORT_STATUSES as readonly string[]).includes(status)) throw new BunchError('E_CONFIG', `--status ${status} is not one of ${EXPORT_STATUSES.join(', ')}`);
      }
      const expiresMs = parseDuration(flags.expires ?? '7d');
      if (expiresMs === undefined || expiresMs < 1000 || expiresMs > MAX_LINK_SECONDS * 1000) {
        throw new BunchError('E_CONFIG', `--expires ${flags.expires} must be a duration from 1s to 7d`);
      }
      const settings = resolveSettings(flags);
      const plane = await openControlPlane(requireRedisUrl(settings), settings.prefix);
      try {
        const meta = await plane.runs.getMeta(runId);
        if (!meta) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
        const store = openObjectStore(meta.config.outputUrl, { s3: settings.s3 });
        const signer = format === 'csv' && meta.config.outputUrl.startsWith('s3://') ? new LinkSigner(settings.s3, Math.round(expiresMs / 1000)) : undefined;
        const out = flags.output ? createWriteStream(flags.output) : process.stdout;
        try {
          const lines = await exportManifest(store, runId, out, { format, ...(statuses ? { statuses } : {}), ...(signer ? { signer } : {}) });
          if (flags.output) {
            out.end();
            await finished(out);
            if (flags.json) process.stdout.write(JSON.stringify({ runId, lines, format, output: flags.output }) + '\n');
          }
        } finally {
          signer?.close();
          await store.close();
        }
      } finally {
        await plane.close();
      }
    });
}
