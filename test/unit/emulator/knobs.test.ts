import { describe, expect, it } from 'vitest';
import { DEFAULT_KNOBS, mergeKnobs, parseKnobsInput, requestsPerMinuteFor } from '../../../src/emulator/knobs.js';
import { sampleLatencyMs } from '../../../src/emulator/sample-latency.js';
import { createSeededRandom } from '../../../src/emulator/seeded-random.js';

describe('knobs', () => {
  it('merges overrides in order; fault rates merge per fault', () => {
    const knobs = mergeKnobs(DEFAULT_KNOBS, { faultRates: { '503': 0.1 }, timeScale: 0.5 }, { faultRates: { '500': 0.2 } });
    expect(knobs.faultRates).toEqual({ '503': 0.1, '500': 0.2 });
    expect(knobs.timeScale).toBe(0.5);
    expect(Object.isFrozen(knobs)).toBe(true);
    expect(DEFAULT_KNOBS.faultRates).toEqual({});
  });

  it('rejects unknown knobs, unknown faults, rates out of range and sums over 1', () => {
    expect(() => parseKnobsInput({ latencyMs: 5 })).toThrow();
    expect(() => parseKnobsInput({ faultRates: { teapot: 0.1 } })).toThrow();
    expect(() => parseKnobsInput({ faultRates: { '503': 1.5 } })).toThrow();
    expect(() => parseKnobsInput({ faultRates: { '503': 0.6, '500': 0.6 } })).toThrow(/at most 1/);
    expect(() => parseKnobsInput({ latency: { kind: 'uniform', minMs: 10, maxMs: 5 } })).toThrow();
    expect(() => parseKnobsInput({ timeScale: 0 })).toThrow();
  });

  it('resolves RPM per model', () => {
    expect(requestsPerMinuteFor(DEFAULT_KNOBS, 'm')).toBeUndefined();
    expect(requestsPerMinuteFor(mergeKnobs(DEFAULT_KNOBS, { requestsPerMinute: 5 }), 'm')).toBe(5);
    const perModel = mergeKnobs(DEFAULT_KNOBS, { requestsPerMinute: { a: 3 } });
    expect(requestsPerMinuteFor(perModel, 'a')).toBe(3);
    expect(requestsPerMinuteFor(perModel, 'b')).toBeUndefined();
  });
});

describe('seeded random and latency', () => {
  it('is reproducible per seed', () => {
    const a = createSeededRandom(7);
    const b = createSeededRandom(7);
    const c = createSeededRandom(8);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect([c(), c(), c()]).not.toEqual(first);
    expect(first.every((value) => value >= 0 && value < 1)).toBe(true);
  });

  it('samples fixed, uniform and lognormal latencies', () => {
    const random = createSeededRandom(1);
    expect(sampleLatencyMs({ kind: 'fixed', ms: 250 }, random)).toBe(250);
    for (let index = 0; index < 100; index += 1) {
      const value = sampleLatencyMs({ kind: 'uniform', minMs: 100, maxMs: 200 }, random);
      expect(value).toBeGreaterThanOrEqual(100);
      expect(value).toBeLessThanOrEqual(200);
    }
    const samples = Array.from({ length: 4000 }, () => sampleLatencyMs({ kind: 'lognormal', p50Ms: 1000, p99Ms: 5000 }, random)).sort(
      (x, y) => x - y,
    );
    const median = samples[2000] ?? 0;
    const p99 = samples[3960] ?? 0;
    expect(median).toBeGreaterThan(900);
    expect(median).toBeLessThan(1100);
    expect(p99).toBeGreaterThan(4000);
    expect(p99).toBeLessThan(6200);
  });
});
