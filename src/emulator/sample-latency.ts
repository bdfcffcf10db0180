import type { LatencyKnob } from './knobs.js';
import type { RandomSource } from './seeded-random.js';

/** z-score of the 99th percentile of a standard normal distribution. */
const Z_99 = 2.3263478740408408;

/** Draws one latency in ms (before timeScale) from the configured distribution. */
export function sampleLatencyMs(latency: LatencyKnob, random: RandomSource): number {
  switch (latency.kind) {
    case 'fixed':
      return latency.ms;
    case 'uniform':
      return latency.minMs + (latency.maxMs - latency.minMs) * random();
    case 'lognormal': {
      // Box-Muller; the median of a lognormal is e^mu and its p99 is e^(mu + Z_99 * sigma).
      const mu = Math.log(latency.p50Ms);
      const sigma = (Math.log(latency.p99Ms) - mu) / Z_99;
      const u1 = Math.max(random(), Number.MIN_VALUE);
      const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random());
      return Math.exp(mu + sigma * normal);
    }
  }
}
