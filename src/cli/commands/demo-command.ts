import path from 'node:path';
import type { Command } from 'commander';
import { startRun } from '../../lanes/start-run.js';
import { createGeminiClient } from '../../gemini/gemini-client.js';
import { createModelPreflight } from '../../lanes/preflight-model.js';
import { requestFinalize } from '../../lanes/run-queues.js';
import { startPrivateRedis } from '../../local/start-private-redis.js';
import { createLogger } from '../../logging/create-logger.js';
import { loadJobFile } from '../../spec/load-job-file.js';
import type { ResolvedJob } from '../../spec/resolved-job.js';
import { openObjectStore } from '../../storage/open-object-store.js';
import { startWorkers } from '../../workers/start-workers.js';
import { openControlPlane } from '../control-plane.js';
import { describeRun } from '../describe-run.js';
import { writeGallery } from '../../gallery/write-gallery.js';
import { EXIT } from '../exit-codes.js';
import { followRun } from '../follow-run.js';
import { packageRoot } from '../package-root.js';
import { resolveSettings } from '../resolve-settings.js';
import { emulatorGateways } from '../../protocols/emulator-gateways.js';

interface DemoFlags {
  job?: string;
  out: string;
  concurrency?: string;
  json?: boolean;
}

/**
 * The embedded default: the built-in emulator instead of Google, a private redis-server that bunch
 * starts and stops, local-directory storage, and the sample catalog from jobs/. Nothing to
 * configure, nothing paid.
 */
export function registerDemoCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('demo')
    .description('run the demo job end to end on the emulator, a private redis-server and a local directory')
    .option('--job <file>', 'job file to run (default: jobs/demo.yaml of this package)')
    .option('--out <dir>', 'output directory', 'bunch-demo-out')
    .option('-c, --concurrency <n>', 'concurrent calls (default: the job\'s sync.concurrency)')
    .option('--json', 'print the run summary as JSON on stdout')
    .action(async (flags: DemoFlags) => {
      const loaded = await loadJobFile(flags.job ?? path.join(packageRoot(), 'jobs', 'demo.yaml'));
      // The demo is quiet unless asked (BUNCH_LOG_LEVEL); it uses its own Redis, emulator and output.
      const settings = resolveSettings({ concurrency: flags.concurrency }, { BUNCH_LOG_LEVEL: 'warn', ...process.env }, loaded);
      const logger = createLogger({ level: settings.logLevel });
      const outDir = path.resolve(flags.out);
      const job: ResolvedJob = { ...loaded, output: { kind: 'file', url: `file://${outDir}`, dir: outDir, key: loaded.output.key } };
      // Loaded on use: the emulator stays out of every other command's process (a worker's RSS).
      const { startEmulator } = await import('../../emulator/start-emulator.js');
      const emulator = await startEmulator({});
      const redis = await startPrivateRedis();
      const prefix = 'bunch-demo';
      const openStore = (url: string) => openObjectStore(url);
      let plane: Awaited<ReturnType<typeof openControlPlane>> | undefined;
      let fleet: Awaited<ReturnType<typeof startWorkers>> | undefined;
      try {
        plane = await openControlPlane(redis.url, prefix);
        fleet = await startWorkers({
          redisUrl: redis.url,
          prefix,
          concurrency: settings.concurrency,
          gemini: { baseUrl: emulator.url, apiKey: emulator.apiKey ?? 'none' },
          // The emulator answers the gateway protocols too, so the gateway example jobs run in the demo.
          gateways: emulatorGateways(emulator.url, emulator.apiKey ?? 'none'),
          openStore,
          logger,
        });
        process.stderr.write(`emulator ${emulator.url}, redis ${redis.url}, output ${outDir}\n`);
        const client = createGeminiClient({ baseUrl: emulator.url, apiKey: emulator.apiKey ?? 'none' });
        const preflight = createModelPreflight(client, (message) => logger.warn(message));
        const started = await startRun(job, { runs: plane.runs, queues: plane.queues, openStore, logger, preflight });
        const meta = await followRun(plane.runs, started.runId, {
          progress: !flags.json && process.stderr.isTTY,
          requestFinalize: (id) => requestFinalize(plane!.queues.finalize, id),
        });
        // The demo's Redis and workers end with it: the gallery is written here, not left to the
        // report queue (a worker of the fleet may be writing it too; both write the same files).
        const gallery = meta.config.gallery === false ? undefined : await writeGallery(openStore(meta.config.outputUrl), started.runId);
        if (flags.json) process.stdout.write(JSON.stringify({ ...started, status: meta.status, counts: meta.counts, ...(gallery ? { gallery: gallery.uri } : {}) }) + '\n');
        else {
          process.stdout.write(
            `${describeRun(meta)}\n  manifest   ${path.join(outDir, 'runs', started.runId, 'manifest.jsonl')}\n` +
              (gallery ? `  gallery    ${path.join(outDir, 'runs', started.runId, 'gallery', 'index.html')}\n` : ''),
          );
        }
        setExitCode(meta.status === 'succeeded' ? EXIT.ok : EXIT.runFailed);
      } finally {
        await fleet?.close();
        await plane?.close();
        await redis.stop();
        await emulator.close();
      }
    });
}
