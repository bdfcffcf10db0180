import { afterEach, describe, expect, it } from 'vitest';
import { openControlPlane, type ControlPlane } from '../../../src/cli/control-plane.js';
import { followRun } from '../../../src/cli/follow-run.js';
import { watchRun } from '../../../src/cli/watch-run.js';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { startRedis, type RedisHandle } from '../../helpers/start-redis.js';

/**
 * Redis stops answering while its connection stays up (SIGSTOP here; a frozen VM, a paused
 * container, a partition dropping packets) as `bunch run --wait` or `bunch status --watch` follow
 * a run. Both promise to give up after their outage limit. Before: the poll never settled (the
 * control plane's commands have no timeout, TCP keepalive never fires on a frozen peer), the
 * limit was never checked and a cron job's `--wait` hung until Redis came back.
 */
describe('a Redis that stops answering while a run is followed', () => {
  let redis: RedisHandle | undefined;
  let plane: ControlPlane | undefined;
  afterEach(async () => {
    if (redis?.pid) process.kill(redis.pid, 'SIGCONT');
    await plane?.close();
    await redis?.stop();
    redis = undefined;
    plane = undefined;
  });

  async function frozenPlane(): Promise<ControlPlane> {
    redis = await startRedis({ ignoreEnv: true });
    plane = await openControlPlane(redis.url, 'frozen');
    // Answering: an unknown run is told at once.
    await expect(followRun(plane.runs, 'no-such-run', { intervalMs: 50 })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    process.kill(redis.pid as number, 'SIGSTOP');
    return plane;
  }

  it('bunch run --wait (followRun) gives up with E_NETWORK after its outage limit', async () => {
    const open = await frozenPlane();
    const troubles: number[] = [];
    const outcome = await followRun(open.runs, 'no-such-run', {
      intervalMs: 50,
      outageToleranceMs: 1000,
      pollAnswerMs: 400,
      onRedisTrouble: (_error, downForMs) => void troubles.push(downForMs),
    }).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(BunchError);
    expect((outcome as BunchError).code).toBe('E_NETWORK');
    expect((outcome as BunchError).message).toMatch(/^Redis was unreachable for \d+ s while following run no-such-run \(Redis did not answer run no-such-run's state within 400 ms\)/);
    // Each unanswered poll was told as trouble, counted from when the first one was asked.
    expect(troubles.length).toBeGreaterThanOrEqual(2);
    expect(troubles[0]).toBeGreaterThanOrEqual(400);
  });

  it('bunch status --watch (watchRun) gives up after its outage limit, saying Redis is unreachable meanwhile', async () => {
    const open = await frozenPlane();
    const lines: string[] = [];
    const outcome = await watchRun(open.runs, 'no-such-run', {
      intervalMs: 50,
      redraw: false,
      write: (text) => void lines.push(text),
      outageToleranceMs: 1000,
      pollAnswerMs: 400,
    }).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toBe("Redis did not answer run no-such-run's state within 400 ms");
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d Redis unreachable for 0 s; the run continues on the workers\n$/);
  });
});
