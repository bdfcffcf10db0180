import { afterEach, describe, expect, it } from 'vitest';
import { listSchedules, openScheduleQueue, upsertSchedule } from '../../../src/schedules/schedule-queue.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';
import { createRedisConnection } from '../../../src/redis/redis-connection.js';

let redis: RedisHandle | undefined;
const originalTz = process.env.TZ;
afterEach(async () => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
  await redis?.stop();
  redis = undefined;
});

describe('a cron schedule added without --tz', () => {
  it('fires on UTC, as `schedule add --help` ("default UTC") and `schedule list` ("cron … UTC") say, whatever the host zone', async () => {
    redis = await startRedis();
    const connection = createRedisConnection(redis.url, 'producer');
    const queue = openScheduleQueue(connection, 'tzcheck');
    try {
      // The machine running `bunch schedule add` (or a worker computing the next firing) is not on UTC.
      process.env.TZ = 'America/New_York';
      await upsertSchedule(queue, { name: 'nightly', jobSource: '/jobs/nightly.yaml', cron: '0 2 * * *', overlap: 'skip' });
      const [info] = await listSchedules(queue);
      expect(info?.tz).toBe('UTC');
      // Before: 02:00 New York time (06:00 or 07:00 UTC), the host's zone.
      expect(new Date(info!.next!).getUTCHours()).toBe(2);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});
