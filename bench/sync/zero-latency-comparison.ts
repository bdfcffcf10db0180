import path from 'node:path';
import type { BenchServices } from './bench-services.js';
import { runBunchSync } from './bunch-sync-run.js';
import { runHandWrittenLoop } from './hand-written-loop.js';
import { median } from './median.js';
import { runRawBullmqNoop } from './raw-bullmq-noop.js';
import type { CommandCount } from './redis-command-count.js';
import { throughputWindow } from './throughput-window.js';

/**
 * Part 1: with the emulator answering at once (small 512 px images), how much of the machine does
 * bunch's own machinery cost? (a) raw BullMQ no-op jobs, (b) a hand-written loop doing the same
 * calls and writes, (c) bunch's sync lane end to end; each repeated, the median reported. The
 * three interleave within each repetition, so drifting background load hits them alike. A first
 * repetition warms up (JIT, the disk's caches) and is not counted: it was always the slowest, by
 * up to 1.5x. Besides the ratio of medians, each repetition's own c/b' (measured seconds apart)
 * and their median: the machine's speed drifts by 1.5-2x between repetitions, and a ratio of
 * medians can pair a fast (b') with a slow (c). And the same ratio in the steady state (between
 * the 10th and the 90th percentile of completions), which leaves out what (c) pays once per run —
 * planning before its first item is done, finalize after its last — from what it pays per item.
 */
export interface ZeroLatencyOptions {
  items: number;
  /** (a) is ~100x faster than (b) and (c); more items keep its clock well above timer noise. */
  noopItems: number;
  concurrency: number;
  repetitions: number;
}

export interface ZeroLatencyResult {
  options: ZeroLatencyOptions;
  /** items/s per repetition. */
  noop: number[];
  handLoop: number[];
  /** (b) plus a marker object per item: the same number of stored objects as bunch. */
  handLoopWithMarker: number[];
  bunch: number[];
  median: { noop: number; handLoop: number; handLoopWithMarker: number; bunch: number };
  /** Redis commands per item (median over repetitions): all, and Lua script calls among them. */
  commandsPerItem: { noop: CommandCount; bunch: CommandCount };
  /** c/a and c/b on the medians. */
  ratios: { bunchOverNoop: number; bunchOverHandLoop: number; bunchOverHandLoopWithMarker: number };
  /** c/b' within each repetition, and their median. */
  paired: { bunchOverHandLoopWithMarker: number[]; median: number };
  /** Items/s between the 10th and 90th percentile of completions, per repetition; c/b' of those. */
  steady: { handLoopWithMarker: number[]; bunch: number[]; paired: number[]; median: number };
  /** (c)'s per-run edges, medians in ms: startRun to its first item done; its last item done to the run finalized. */
  bunchEdgesMs: { firstItem: number; finalize: number };
}

export async function runZeroLatencyComparison(services: BenchServices, options: ZeroLatencyOptions): Promise<ZeroLatencyResult> {
  services.emulator.setKnobs({ latency: { kind: 'fixed', ms: 0 }, realisticPayload: false });
  const noop: number[] = [];
  const handLoop: number[] = [];
  const handLoopWithMarker: number[] = [];
  const bunch: number[] = [];
  const steadyLoop: number[] = [];
  const steadyBunch: number[] = [];
  const firstItemMs: number[] = [];
  const finalizeMs: number[] = [];
  const noopCommands: CommandCount[] = [];
  const bunchCommands: CommandCount[] = [];
  // Repetition 0 warms up and is dropped.
  for (let rep = 0; rep <= options.repetitions; rep += 1) {
    const counted = rep > 0;
    const a = await runRawBullmqNoop({
      redisUrl: services.redis.url,
      prefix: services.newPrefix('a'),
      items: options.noopItems,
      concurrency: options.concurrency,
    });
    if (counted) noop.push(a.itemsPerSecond);
    if (counted && a.commandsPerItem) noopCommands.push(a.commandsPerItem);
    const b = await runHandWrittenLoop({
      baseUrl: services.emulator.url,
      apiKey: services.emulator.apiKey ?? 'unused',
      outputUrl: `file://${path.join(services.dir.path, services.newPrefix('b'), 'out')}`,
      items: options.items,
      concurrency: options.concurrency,
      imageSize: '512',
    });
    if (counted) handLoop.push(b.itemsPerSecond);
    const bm = await runHandWrittenLoop({
      baseUrl: services.emulator.url,
      apiKey: services.emulator.apiKey ?? 'unused',
      outputUrl: `file://${path.join(services.dir.path, services.newPrefix('bm'), 'out')}`,
      items: options.items,
      concurrency: options.concurrency,
      imageSize: '512',
      writeMarker: true,
    });
    if (counted) handLoopWithMarker.push(bm.itemsPerSecond);
    if (counted) steadyLoop.push(throughputWindow(bm.completions, bm.seconds).steadyPerSecond);
    const c = await runBunchSync({
      services,
      label: 'c',
      items: options.items,
      concurrency: options.concurrency,
      imageSize: '512',
      countCommands: true,
    });
    if (counted) {
      bunch.push(c.itemsPerSecond);
      steadyBunch.push(throughputWindow(c.completions, c.seconds).steadyPerSecond);
      firstItemMs.push((c.completions[0] as number) * 1000);
      finalizeMs.push((c.seconds - (c.completions.at(-1) as number)) * 1000);
    }
    if (counted && c.commandsPerItem) bunchCommands.push(c.commandsPerItem);
  }
  const medians = {
    noop: median(noop),
    handLoop: median(handLoop),
    handLoopWithMarker: median(handLoopWithMarker),
    bunch: median(bunch),
  };
  const pairedRatios = bunch.map((value, i) => value / (handLoopWithMarker[i] as number));
  const steadyRatios = steadyBunch.map((value, i) => value / (steadyLoop[i] as number));
  return {
    options,
    noop,
    handLoop,
    handLoopWithMarker,
    bunch,
    median: medians,
    commandsPerItem: { noop: medianCount(noopCommands), bunch: medianCount(bunchCommands) },
    ratios: {
      bunchOverNoop: medians.bunch / medians.noop,
      bunchOverHandLoop: medians.bunch / medians.handLoop,
      bunchOverHandLoopWithMarker: medians.bunch / medians.handLoopWithMarker,
    },
    paired: { bunchOverHandLoopWithMarker: pairedRatios, median: median(pairedRatios) },
    steady: { handLoopWithMarker: steadyLoop, bunch: steadyBunch, paired: steadyRatios, median: median(steadyRatios) },
    bunchEdgesMs: { firstItem: median(firstItemMs), finalize: median(finalizeMs) },
  };
}

function medianCount(counts: CommandCount[]): CommandCount {
  return { total: median(counts.map((c) => c.total)), scriptCalls: median(counts.map((c) => c.scriptCalls)) };
}
