import path from 'node:path';
import type { BenchServices } from './bench-services.js';
import { runBunchSync } from './bunch-sync-run.js';
import { runHandWrittenLoop } from './hand-written-loop.js';
import { idealMakespanSeconds } from './ideal-makespan.js';
import { sampleInFlight, type InFlightSampler } from './in-flight-sampler.js';
import { throughputWindow, type ThroughputWindow } from './throughput-window.js';

/**
 * Part 2: with a realistic-ish call latency L, the sync lane should be limited by C / L and by
 * nothing of its own. The emulator draws each latency uniformly from [minMs, maxMs]; the bound
 * uses both the nominal mean and the mean the emulator actually served (its own request log:
 * arrival to last byte), so an unlucky draw is not counted against bunch. The hand-written loop
 * runs the same workload as a reference for what is reachable on this machine.
 */
export interface LatencyBoundOptions {
  items: number;
  concurrency: number;
  minMs: number;
  maxMs: number;
  /** Also run the hand-written loop under the same latency (costs one more run of the same length). */
  withHandLoop: boolean;
}

export interface LaneUnderLatency extends ThroughputWindow {
  seconds: number;
  firstCompletionSeconds: number;
  lastCompletionSeconds: number;
  /** Zero-overhead makespan of the latencies actually served, in arrival order (ideal-makespan.ts). */
  idealSeconds: number;
  /** Whole-run throughput / (items / idealSeconds): the orchestrator's own share of the loss. */
  wholeRunOverIdeal: number;
  /** Mean generateContent time at the emulator during this lane's run, seconds. */
  servedLatencySeconds: number;
  /** Mean / max requests open at the emulator within the steady window. */
  inFlightMean: number;
  inFlightMax: number;
  /** Achieved / (C / L), with L the nominal mean and the served mean. */
  wholeRunOverBound: number;
  steadyOverBound: number;
  steadyOverServedBound: number;
}

export interface LatencyBoundResult {
  options: LatencyBoundOptions;
  nominalLatencySeconds: number;
  boundPerSecond: number;
  bunch: LaneUnderLatency;
  handLoop?: LaneUnderLatency;
}

export async function runLatencyBound(services: BenchServices, options: LatencyBoundOptions): Promise<LatencyBoundResult> {
  const { emulator } = services;
  emulator.setKnobs({ latency: { kind: 'uniform', minMs: options.minMs, maxMs: options.maxMs }, realisticPayload: false });
  const nominal = (options.minMs + options.maxMs) / 2000;
  const bound = options.concurrency / nominal;
  try {
    let sampler: InFlightSampler | undefined;
    const start = () => {
      emulator.requestLog.clear();
      sampler = sampleInFlight(emulator);
    };
    let handLoop: LaneUnderLatency | undefined;
    if (options.withHandLoop) {
      const b = await runHandWrittenLoop({
        baseUrl: emulator.url,
        apiKey: emulator.apiKey ?? 'unused',
        outputUrl: `file://${path.join(services.dir.path, services.newPrefix('lb'), 'out')}`,
        items: options.items,
        concurrency: options.concurrency,
        imageSize: '512',
        onStart: start,
      });
      handLoop = describe(b.completions, b.seconds, sampler as InFlightSampler, services, options.concurrency, nominal);
    }
    const c = await runBunchSync({
      services,
      label: 'lc',
      items: options.items,
      concurrency: options.concurrency,
      imageSize: '512',
      onStart: start,
    });
    const bunch = describe(c.completions, c.seconds, sampler as InFlightSampler, services, options.concurrency, nominal);
    return { options, nominalLatencySeconds: nominal, boundPerSecond: bound, bunch, ...(handLoop ? { handLoop } : {}) };
  } finally {
    emulator.setKnobs({ latency: { kind: 'fixed', ms: 0 } });
  }
}

function describe(
  completions: number[],
  seconds: number,
  sampler: InFlightSampler,
  services: BenchServices,
  concurrency: number,
  nominal: number,
): LaneUnderLatency {
  const window = throughputWindow(completions, seconds);
  const inFlight = sampler.stop(window.steadyFromSeconds, window.steadyToSeconds);
  const served = services.emulator.requestLog
    .list({ route: 'generateContent', status: 200 })
    .sort((a, b) => a.time - b.time);
  const servedLatency = served.reduce((sum, entry) => sum + entry.durationMs, 0) / served.length / 1000;
  const bound = concurrency / nominal;
  const idealSeconds = idealMakespanSeconds(served.map((entry) => entry.durationMs / 1000), concurrency);
  return {
    ...window,
    seconds,
    firstCompletionSeconds: completions[0] ?? Number.NaN,
    lastCompletionSeconds: completions.at(-1) ?? Number.NaN,
    idealSeconds,
    wholeRunOverIdeal: idealSeconds / seconds,
    servedLatencySeconds: servedLatency,
    inFlightMean: inFlight.mean,
    inFlightMax: inFlight.max,
    wholeRunOverBound: window.wholeRunPerSecond / bound,
    steadyOverBound: window.steadyPerSecond / bound,
    steadyOverServedBound: window.steadyPerSecond / (concurrency / servedLatency),
  };
}
