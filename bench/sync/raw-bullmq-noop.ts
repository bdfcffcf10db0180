import { Queue, Worker } from 'bullmq';
import { createRedisConnection } from '../../src/redis/redis-connection.js';
import { countRedisCommands, type CommandCount } from './redis-command-count.js';

/**
 * Baseline (a): the floor BullMQ itself sets on this machine. No-op jobs with a small payload go
 * through the same Redis, added with addBulk in chunks of 250 (as startRun does) and removed on
 * completion (as bunch's generate jobs are). Timed from the first addBulk to the last completion;
 * the worker is up before the clock starts, as bunch's are.
 */
export interface NoopOptions {
  redisUrl: string;
  prefix: string;
  items: number;
  concurrency: number;
}

export interface ThroughputSample {
  items: number;
  seconds: number;
  itemsPerSecond: number;
  /** Redis commands per item, when counted (see redis-command-count.ts). */
  commandsPerItem?: CommandCount;
}

const CHUNK = 250;

export async function runRawBullmqNoop(options: NoopOptions): Promise<ThroughputSample> {
  const producer = createRedisConnection(options.redisUrl, 'producer');
  const consumer = createRedisConnection(options.redisUrl, 'worker');
  const queue = new Queue('noop', { connection: producer, prefix: options.prefix });
  let completed = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const worker = new Worker('noop', async () => 'ok', {
    connection: consumer,
    prefix: options.prefix,
    concurrency: options.concurrency,
  });
  worker.on('completed', () => {
    completed += 1;
    if (completed === options.items) resolveDone();
  });
  try {
    await worker.waitUntilReady();
    // The worker is up before the clock starts, as bunch's are.
    const timed = async (): Promise<number> => {
      const started = performance.now();
      for (let first = 0; first < options.items; first += CHUNK) {
        const count = Math.min(CHUNK, options.items - first);
        await queue.addBulk(
          Array.from({ length: count }, (_, i) => ({
            name: 'noop',
            data: { runId: 'bench', index: first + i, itemKey: `SKU-${first + i}/default` },
            opts: { jobId: `bench.${first + i}`, removeOnComplete: true },
          })),
        );
      }
      await done;
      return (performance.now() - started) / 1000;
    };
    const { result: seconds, commands } = await countRedisCommands(producer, timed);
    return {
      items: options.items,
      seconds,
      itemsPerSecond: options.items / seconds,
      commandsPerItem: { total: commands.total / options.items, scriptCalls: commands.scriptCalls / options.items },
    };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    producer.disconnect();
    consumer.disconnect();
  }
}
