import { describe, expect, it } from 'vitest';
import { GivenUpSweep } from '../../../src/workers/given-up-sweep.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('GivenUpSweep', () => {
  it('sweeps when started and then again after each interval, reporting what it recorded and what failed', async () => {
    const results: (number | Error)[] = [2, new Error('Redis said no'), 0, 0, 0, 0, 0, 0, 0, 0];
    let calls = 0;
    const recorded: number[] = [];
    const errors: string[] = [];
    const sweep = new GivenUpSweep(
      async () => {
        const result = results[calls++] ?? 0;
        if (result instanceof Error) throw result;
        return result;
      },
      20,
      (error) => errors.push(error.message),
      (handed) => recorded.push(handed),
    );
    sweep.start();
    expect(calls).toBe(1);
    await until(() => calls >= 3);
    await sweep.stop();
    const callsAtStop = calls;
    expect(recorded).toEqual([2]);
    expect(errors).toEqual(['Redis said no']);
    await sleep(60);
    expect(calls).toBe(callsAtStop);
  });

  it('never runs two sweeps at once: the next is timed from the end of the last', async () => {
    let running = 0;
    let overlapped = false;
    let calls = 0;
    const sweep = new GivenUpSweep(
      async () => {
        calls += 1;
        running += 1;
        if (running > 1) overlapped = true;
        await sleep(50);
        running -= 1;
        return 0;
      },
      5,
      () => undefined,
      () => undefined,
    );
    sweep.start();
    await until(() => calls >= 3);
    await sweep.stop();
    expect(overlapped).toBe(false);
  });

  it('stop() waits for a sweep under way', async () => {
    let finished = false;
    const sweep = new GivenUpSweep(
      async () => {
        await sleep(40);
        finished = true;
        return 0;
      },
      1000,
      () => undefined,
      () => undefined,
    );
    sweep.start();
    await sweep.stop();
    expect(finished).toBe(true);
  });

  it('stop() tells the pass under way to end early (its signal is aborted), and a pass begun after it never runs', async () => {
    const signals: AbortSignal[] = [];
    const sweep = new GivenUpSweep(
      async (signal) => {
        signals.push(signal);
        // A long pass that looks at its signal between jobs, as sweepGivenUpJobs does.
        for (let i = 0; i < 1000 && !signal.aborted; i += 1) await sleep(5);
        return 0;
      },
      1000,
      () => undefined,
      () => undefined,
    );
    sweep.start();
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
    const stopping = Date.now();
    await sweep.stop();
    expect(signals[0]?.aborted).toBe(true);
    // Well inside the 5 s stop() would otherwise give it (a 5 s pass left to run on).
    expect(Date.now() - stopping).toBeLessThan(2_000);
    sweep.start();
    expect(signals).toHaveLength(1);
  });
});
