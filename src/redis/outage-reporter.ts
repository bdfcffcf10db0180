import type { Logger } from 'pino';
import { maskRedisUrl } from './redis-topology.js';

export interface OutageReporter {
  /** Every connection's `error` event goes here. */
  onError(error: Error): void;
  /** Every connection's `ready` event goes here. */
  onReady(): void;
  /** How long Redis has been unreachable, or undefined while it answers. */
  downForMs(): number | undefined;
}

/**
 * Turns a storm of connection errors (ioredis reports every failed reconnect, for every
 * connection) into what an operator can read: a JSON warning when Redis goes, then one every
 * interval while it stays gone (with how long), and one line when it is back. Never a stack trace.
 */
export function createOutageReporter(logger: Logger, redisUrl: string, intervalMs = 10_000, now: () => number = Date.now): OutageReporter {
  const redis = maskRedisUrl(redisUrl);
  let downSince: number | undefined;
  let lastError = '';
  let ticker: NodeJS.Timeout | undefined;
  const warn = () => {
    if (downSince === undefined) return;
    logger.warn({ redis, downForMs: now() - downSince, err: { message: lastError } }, 'Redis unreachable; retrying');
  };
  return {
    onError(error) {
      lastError = error.message;
      if (downSince !== undefined) return;
      downSince = now();
      warn();
      ticker = setInterval(warn, intervalMs);
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
  };
}
