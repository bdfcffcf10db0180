import { openRedisClient } from './open-redis-client.js';

/**
 * Answers "does Redis answer right now?" within a bound, for decisions that cannot wait for an
 * outage to end (a worker told to stop). It has a connection of its own because the working
 * connections cannot tell: they retry commands forever (a PING on them waits for Redis to come
 * back) and reconnect with a backoff of up to 5 s (a PING on them can fail for seconds after
 * Redis is back). The probe's connection gives up a command at the first failure, reconnects
 * every 250 ms, and is only asked to PING once it is ready.
 */
export interface RedisProbe {
  /** True when the connection is ready and a PING is answered, all within `timeoutMs`. */
  answers(timeoutMs: number): Promise<boolean>;
  close(): void;
}

const RECONNECT_EVERY_MS = 250;

export function openRedisProbe(url: string): RedisProbe {
  const client = openRedisClient(url, {
    maxRetriesPerRequest: 0,
    connectionName: 'bunch-probe',
    tlsCaFile: process.env.BUNCH_REDIS_TLS_CA_FILE,
    reconnectEveryMs: RECONNECT_EVERY_MS,
  });
  // Its failures are the answer, not news: the working connections report the outage.
  client.on('error', () => undefined);
  return {
    async answers(timeoutMs) {
      const cleanup: (() => void)[] = [];
      const timeout = new Promise<false>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        cleanup.push(() => clearTimeout(timer));
      });
      const asked = (async () => {
        if (client.status !== 'ready') {
          // A failed connection attempt is a "no" at once; a successful one is followed by a PING.
          const connected = await new Promise<boolean>((resolve) => {
            const onReady = () => resolve(true);
            const onError = () => resolve(false);
            client.once('ready', onReady);
            client.once('error', onError);
            cleanup.push(() => {
              client.off('ready', onReady);
              client.off('error', onError);
            });
          });
          if (!connected) return false;
        }
        await client.ping();
        return true;
      })().catch(() => false);
      try {
        return await Promise.race([asked, timeout]);
      } finally {
        for (const undo of cleanup) undo();
      }
    },
    close() {
      client.disconnect();
    },
  };
}
