import type { Command } from 'commander';
import { createLogger } from '../../logging/create-logger.js';
import { openObjectStore } from '../../storage/open-object-store.js';
import { untilShutdownSignal } from '../../workers/until-shutdown-signal.js';
import { integerFlag } from '../number-flag.js';
import { openControlPlane } from '../control-plane.js';
import { requireRedisUrl, resolveSettings } from '../resolve-settings.js';

interface ServeFlags {
  port?: string;
  host?: string;
  redisUrl?: string;
  prefix?: string;
}

/** `bunch serve`: the operator console (runs, galleries, bull-board, metrics) until SIGTERM/SIGINT. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('the operator console: runs and run pages, galleries, bull-board queues, /metrics, cancel and retry (BUNCH_CONSOLE_TOKEN required beyond localhost)')
    .option('--port <port>', 'port to listen on', '8787')
    .option('--host <host>', 'address to listen on (anything but loopback needs BUNCH_CONSOLE_TOKEN)', '127.0.0.1')
    .option('--redis-url <url>', 'Redis URL (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix (env BUNCH_PREFIX, default "bunch")')
    .action(async (flags: ServeFlags) => {
      const port = integerFlag('--port', flags.port ?? '8787', { min: 0, max: 65535 });
      const settings = resolveSettings(flags);
      const logger = createLogger({ level: settings.logLevel });
      const plane = await openControlPlane(requireRedisUrl(settings), settings.prefix);
      let running;
      try {
        // Loaded on use: Express and bull-board stay out of every other command's process (a worker's RSS).
        const { startConsole } = await import('../../console/start-console.js');
        running = await startConsole({
          plane,
          prefix: settings.prefix,
          port,
          host: flags.host ?? '127.0.0.1',
          token: process.env.BUNCH_CONSOLE_TOKEN,
          publicOrigin: process.env.BUNCH_CONSOLE_ORIGIN,
          openStore: (url) => openObjectStore(url, { s3: settings.s3 }),
          logger,
          allowPrivateReferences: settings.allowPrivateReferences,
        });
      } catch (error) {
        await plane.close();
        throw error;
      }
      logger.info({ url: running.url }, 'console listening');
      process.stderr.write(`bunch: console on ${running.url}\n`);
      await untilShutdownSignal();
      await running.close();
      await plane.close();
    });
}
