import type { Command } from 'commander';
import { BunchError } from '../../errors/bunch-error.js';
import { LinkSigner, MAX_LINK_SECONDS } from '../../export/presign-link.js';
import { writeGallery } from '../../gallery/write-gallery.js';
import { parseDuration } from '../../spec/parse-duration.js';
import { openObjectStore } from '../../storage/open-object-store.js';
import { openControlPlane } from '../control-plane.js';
import { requireRedisUrl, resolveSettings } from '../resolve-settings.js';

interface GalleryFlags {
  expires?: string;
  concurrency?: string;
  json?: boolean;
  redisUrl?: string;
  prefix?: string;
}

/**
 * `bunch gallery <runId>`: (re)writes the run's gallery next to its manifest and prints where to
 * open it — the file path for local outputs, a presigned link to index.html for s3:// outputs.
 */
export function registerGalleryCommand(program: Command): void {
  program
    .command('gallery')
    .description("write a run's gallery (index.html with WebP thumbnails, next to the manifest) and print where to open it")
    .argument('<runId>')
    .option('--expires <duration>', `lifetime of the presigned link for s3:// outputs (at most 7d)`, '7d')
    .option('--concurrency <n>', 'thumbnails made at once', '4')
    .option('--json', 'print {runId, gallery, link, items, thumbnails, missing} as JSON')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (runId: string, flags: GalleryFlags) => {
      const expiresMs = parseDuration(flags.expires ?? '7d');
      const expiresSeconds = expiresMs === undefined ? Number.NaN : Math.round(expiresMs / 1000);
      if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_LINK_SECONDS) {
        throw new BunchError('E_CONFIG', `--expires must be a duration from 1s to 7d, not ${JSON.stringify(flags.expires)}`);
      }
      const concurrency = Number(flags.concurrency ?? '4');
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw new BunchError('E_CONFIG', `--concurrency must be a whole number from 1 to 64, not ${JSON.stringify(flags.concurrency)}`);
      }
      const settings = resolveSettings(flags);
      const plane = await openControlPlane(requireRedisUrl(settings), settings.prefix);
      try {
        const meta = await plane.runs.getMeta(runId);
        if (!meta) throw new BunchError('E_NOT_FOUND', `run ${runId} is not known to this Redis`);
        const store = openObjectStore(meta.config.outputUrl, { s3: settings.s3 });
        try {
          const result = await writeGallery(store, runId, { concurrency });
          let link = result.uri.startsWith('file://') ? new URL(result.uri).pathname : result.uri;
          if (result.uri.startsWith('s3://')) {
            const signer = new LinkSigner(settings.s3, expiresSeconds);
            try {
              link = await signer.linkFor(result.uri);
            } finally {
              signer.close();
            }
          }
          if (flags.json) {
            process.stdout.write(JSON.stringify({ runId, gallery: result.uri, link, items: result.items, thumbnails: result.thumbnails, missing: result.missing }) + '\n');
          } else {
            process.stdout.write(`${link}\n`);
            process.stderr.write(`bunch: gallery of run ${runId}: ${result.items} items, ${result.thumbnails} thumbnails${result.missing ? `, ${result.missing} images unreadable` : ''}\n`);
          }
        } finally {
          await store.close();
        }
      } finally {
        await plane.close();
      }
    });
}
