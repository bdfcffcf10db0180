import type { RunningEmulator } from '../../src/emulator/start-emulator.js';

/**
 * Counts generateContent requests open at the emulator every `everyMs`. By Little's law the mean
 * of this count is throughput x latency, so mean / C says how busy the C slots really were: a gap
 * between one call's end and the next call's start shows up here as a lost slot.
 */
export interface InFlightSampler {
  /** Stops sampling; mean and max over the samples taken between `fromSeconds` and `toSeconds`. */
  stop(fromSeconds?: number, toSeconds?: number): { mean: number; max: number; samples: number };
}

export function sampleInFlight(emulator: RunningEmulator, everyMs = 100): InFlightSampler {
  const started = performance.now();
  const samples: { at: number; count: number }[] = [];
  const timer = setInterval(() => {
    samples.push({
      at: (performance.now() - started) / 1000,
      count: emulator.requestLog.inFlight({ route: 'generateContent' }).length,
    });
  }, everyMs);
  return {
    stop(fromSeconds = 0, toSeconds = Number.POSITIVE_INFINITY) {
      clearInterval(timer);
      const window = samples.filter((sample) => sample.at >= fromSeconds && sample.at <= toSeconds);
      const total = window.reduce((sum, sample) => sum + sample.count, 0);
      return {
        mean: window.length === 0 ? Number.NaN : total / window.length,
        max: window.reduce((max, sample) => Math.max(max, sample.count), 0),
        samples: window.length,
      };
    },
  };
}
