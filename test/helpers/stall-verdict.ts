import { Worker } from 'bullmq';
import { createRedisConnection } from '../../src/redis/redis-connection.js';

/**
 * Leaves the next job of `queue` the way BullMQ leaves a job that stalled more often than allowed:
 * a throwaway worker takes it and never renews its lock (as a worker killed mid-job would), and
 * that worker's own stalled checker — BullMQ's code, allowed no stall at all — gives the verdict.
 * Since BullMQ 6 the verdict is deferred: the job goes back to waiting with the failure noted on
 * it, and whichever worker fetches it next fails it with an UnrecoverableError before any
 * processor runs. Returns the job's id once the verdict is on it (bounded by `timeoutMs`).
 */
export async function stallPastTheLimit(redisUrl: string, prefix: string, queue: string, timeoutMs = 10_000): Promise<string> {
  const connection = createRedisConnection(redisUrl, 'worker');
  const stalling = new Worker(queue, null, { connection, prefix, autorun: false, lockDuration: 300, stalledInterval: 100, maxStalledCount: 0 });
  // Its stalled checker may report the connection going away while it is closed below.
  stalling.on('error', () => undefined);
  try {
    const job = await stalling.getNextJob('stalling-worker');
    if (!job?.id) throw new Error(`no job waiting in ${queue}`);
    const jobKey = `${prefix}:${queue}:${job.id}`;
    void stalling.startStalledCheckTimer();
    const deadline = Date.now() + timeoutMs;
    while ((await connection.hget(jobKey, 'defa')) === null) {
      if (Date.now() > deadline) throw new Error(`BullMQ's stalled checker gave no verdict on job ${job.id} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return job.id;
  } finally {
    await stalling.close(true);
    connection.disconnect();
  }
}
