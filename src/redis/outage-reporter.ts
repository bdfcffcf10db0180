import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { maskRedisUrl } from './redis-topology.js';

export interface OutageReporter {
  /** Every connection's `error` event goes here. */
  onError(error: Error): void;
  /** Every connection's `ready` event goes here. */
  onReady(): void;
  /** How long Redis has been unreachable, or undefined while it answers. */
  downForMs(): number | undefined;
  /** Listens to a connection's `error` and `ready` events (any number of connections, one report). */
  watch(connection: Redis): void;
}

/**
 * Turns a storm of connection errors (ioredis reports every failed reconnect, for every
 * connection) into what an operator can read: a JSON warning when Redis goes, then one every
 * interval while it stays gone (with how long), and one line when it is back. Never a stack trace.
 * Worker processes and the CLI's `--wait` share it, so an outage reads the same in every log.
 */
export function createOutageReporter(logger: Logger, redisUrl: string, intervalMs = 10_000, now: () => number = Date.now): OutageReporter {
  const redis = maskRedisUrl(redisUrl);
  let downSince: number | undefined;
  let lastError = '';
  let ticker: NodeJS.Timeout | undefined;
  const warn = (at = now()) => {
    if (downSince === undefined) return;
    logger.warn({ redis, downForMs: at - downSince, err: { message: lastError } }, 'Redis unreachable; retrying');
  };
  const reporter: OutageReporter = {
    onError(error) {
      lastError = error.message;
      if (downSince !== undefined) return;
      downSince = now();
      warn(downSince); // the first warning says 0, not the millisecond that passed meanwhile
      ticker = setInterval(() => warn(), intervalMs);
      ticker.unref();
    },
    onReady() {
      if (downSince === undefined) return;
      clearInterval(ticker);
      logger.info({ redis, outageMs: now() - downSince }, 'Redis is back');
      downSince = undefined;
    },
    downForMs() {
      return downSince === undefined ? undefined : now() - downSince;
    },
    watch(connection) {
      connection.on('error', (error: Error) => reporter.onError(error));
      // 'ready', not 'connect': the connection answers commands again (after AUTH, SELECT, INFO).
      connection.on('ready', () => reporter.onReady());
    },
  };
  return reporter;
}
