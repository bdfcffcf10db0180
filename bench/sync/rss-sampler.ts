import { readFile } from 'node:fs/promises';

/**
 * Samples another process's resident memory from /proc/<pid>/status (Linux): VmRSS now, and
 * VmHWM, the kernel's own high-water mark, which catches peaks between two samples.
 */
export interface RssSample {
  at: number;
  rssMb: number;
  hwmMb: number;
}

export interface RssSampler {
  latest(): RssSample | undefined;
  /** Stops sampling and returns every sample plus a final read of the high-water mark. */
  stop(): Promise<{ samples: RssSample[]; peakMb: number }>;
}

export async function readRss(pid: number, started = performance.now()): Promise<RssSample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { at: (performance.now() - started) / 1000, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

export function sampleRss(pid: number, everyMs = 100): RssSampler {
  const started = performance.now();
  const samples: RssSample[] = [];
  let reading = false;
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    readRss(pid, started)
      .then((sample) => samples.push(sample))
      .catch(() => undefined) // the process is gone; stop() still reports what was seen
      .finally(() => {
        reading = false;
      });
  }, everyMs);
  return {
    latest: () => samples.at(-1),
    async stop() {
      clearInterval(timer);
      const last = await readRss(pid, started).catch(() => undefined);
      if (last) samples.push(last);
      const peakMb = samples.reduce((max, sample) => Math.max(max, sample.hwmMb, sample.rssMb), 0);
      return { samples, peakMb };
    },
  };
}
