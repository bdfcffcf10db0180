import type { LatencyBoundResult, LaneUnderLatency } from './latency-bound.js';
import type { ReferenceImagesResult } from './reference-images.js';
import type { WorkerMemoryResult } from './worker-memory.js';
import { median } from './median.js';
import type { ZeroLatencyResult } from './zero-latency-comparison.js';

/** Plain-text tables for a terminal; every number the docs quote comes from here. */
export function formatZeroLatency(result: ZeroLatencyResult): string {
  const { options, median: medians } = result;
  const row = (name: string, values: number[], mid: number) =>
    `  ${name.padEnd(36)} ${values.map((v) => v.toFixed(0).padStart(7)).join(' ')}   ${mid.toFixed(0).padStart(7)}`;
  return [
    `Zero latency, 512 px images, concurrency ${options.concurrency}, ${options.items} items ((a): ${options.noopItems}), ` +
      `${options.repetitions} repetitions after a warm-up one (items/s)`,
    `  ${''.padEnd(36)} ${Array.from({ length: options.repetitions }, (_, i) => `run ${i + 1}`.padStart(7)).join(' ')}   ${'median'.padStart(7)}`,
    row('(a) raw BullMQ no-op jobs', result.noop, medians.noop),
    row('(b) hand-written loop + same store', result.handLoop, medians.handLoop),
    row("(b') (b) + a marker object per item", result.handLoopWithMarker, medians.handLoopWithMarker),
    row('(c) bunch sync lane, end to end', result.bunch, medians.bunch),
    `  c/a = ${result.ratios.bunchOverNoop.toFixed(3)}   c/b = ${result.ratios.bunchOverHandLoop.toFixed(3)}   ` +
      `c/b' = ${result.ratios.bunchOverHandLoopWithMarker.toFixed(3)} (ratios of the medians)`,
    `  c/b' within each repetition: ${result.paired.bunchOverHandLoopWithMarker.map((ratio) => ratio.toFixed(3)).join(' ')}   median ${result.paired.median.toFixed(3)}`,
    "  Steady state (items/s between the 10th and 90th percentile of completions; per-run edges left out):",
    row("(b') steady", result.steady.handLoopWithMarker, median(result.steady.handLoopWithMarker)),
    row('(c) steady', result.steady.bunch, median(result.steady.bunch)),
    `  c/b' steady, within each repetition: ${result.steady.paired.map((ratio) => ratio.toFixed(3)).join(' ')}   median ${result.steady.median.toFixed(3)}`,
    `  (c) per run, medians: first item done ${result.bunchEdgesMs.firstItem.toFixed(0)} ms after startRun; ` +
      `finalized ${result.bunchEdgesMs.finalize.toFixed(0)} ms after its last item`,
    `  Redis commands per item (incl. those run inside Lua scripts / script calls): ` +
      `(a) ${fmtCount(result.commandsPerItem.noop)}   (c) ${fmtCount(result.commandsPerItem.bunch)}`,
  ].join('\n');
}

function fmtCount(count: { total: number; scriptCalls: number }): string {
  return `${count.total.toFixed(1)} / ${count.scriptCalls.toFixed(1)}`;
}

export function formatLatencyBound(result: LatencyBoundResult): string {
  const { options } = result;
  const lane = (name: string, value: LaneUnderLatency) =>
    `  ${name.padEnd(22)} ${value.seconds.toFixed(1).padStart(6)} ${value.wholeRunPerSecond.toFixed(2).padStart(8)} ` +
    `${value.steadyPerSecond.toFixed(2).padStart(8)} ${value.servedLatencySeconds.toFixed(3).padStart(8)} ` +
    `${value.inFlightMean.toFixed(1).padStart(6)} ${value.wholeRunOverBound.toFixed(3).padStart(7)} ` +
    `${value.steadyOverBound.toFixed(3).padStart(7)} ${value.steadyOverServedBound.toFixed(3).padStart(8)}\n` +
    `  ${''.padEnd(22)} first done ${value.firstCompletionSeconds.toFixed(2)} s, last done ${value.lastCompletionSeconds.toFixed(2)} s, ` +
    `zero-overhead makespan of the served latencies ${value.idealSeconds.toFixed(2)} s -> whole/ideal ${value.wholeRunOverIdeal.toFixed(3)}`;
  return [
    `Latency uniform ${options.minMs}-${options.maxMs} ms (L = ${result.nominalLatencySeconds.toFixed(2)} s), concurrency ${options.concurrency}, ` +
      `${options.items} items: bound C/L = ${result.boundPerSecond.toFixed(2)} items/s`,
    `  ${''.padEnd(22)} ${'wall s'.padStart(6)} ${'whole/s'.padStart(8)} ${'steady/s'.padStart(8)} ${'served L'.padStart(8)} ` +
      `${'inflt'.padStart(6)} ${'whole/B'.padStart(7)} ${'stdy/B'.padStart(7)} ${'stdy/B*'.padStart(8)}`,
    ...(result.handLoop ? [lane('(b) hand-written loop', result.handLoop)] : []),
    lane('(c) bunch sync lane', result.bunch),
    '  steady = completions p10..p90; B = C / nominal L; B* = C / mean latency the emulator actually served;',
    '  inflt = mean requests open at the emulator within the steady window (C when no slot idles).',
  ].join('\n');
}

export function formatWorkerMemory(results: WorkerMemoryResult[]): string {
  const first = results[0] as WorkerMemoryResult;
  const lines = [
    `Worker memory: \`bunch worker\` child process (${first.options.compiled ? 'bin/bunch.js, compiled' : 'source through tsx'}), 4K realistic payloads (PNG ${(first.pngBytes / 1e6).toFixed(1)} MB/image, ` +
      `base64 ${(first.base64Chars / 1e6).toFixed(1)} MB), latency uniform ${first.options.minMs}-${first.options.maxMs} ms`,
    `  ${'answers read'.padEnd(14)} ${'-c'.padStart(3)} ${'items'.padStart(6)} ${'seconds'.padStart(8)} ${'open max'.padStart(9)} ${'idle MB'.padStart(8)} ${'mean MB'.padStart(8)} ${'peak MB'.padStart(8)} ${'vs whole -c same'.padStart(17)}`,
  ];
  for (const result of results) {
    const same = results.find((other) => other.options.wholeBody && other.options.concurrency === result.options.concurrency);
    lines.push(
      `  ${(result.options.wholeBody ? 'whole body' : 'streamed').padEnd(14)} ${String(result.options.concurrency).padStart(3)} ${String(result.options.items).padStart(6)} ` +
        `${result.seconds.toFixed(1).padStart(8)} ${String(result.emulatorInFlightMax).padStart(9)} ${result.idleMb.toFixed(0).padStart(8)} ${result.meanMb.toFixed(0).padStart(8)} ` +
        `${result.peakMb.toFixed(0).padStart(8)} ${same && same !== result ? `${(result.peakMb / same.peakMb).toFixed(2)}×`.padStart(17) : ''.padStart(17)}`,
    );
  }
  const probed = results.find((result) => result.stages);
  if (probed?.stages) {
    lines.push(`  One 4K call walked step by step (fresh process, every intermediate kept; MB): body ${(probed.stages.bodyChars / 1e6).toFixed(1)} M chars`);
    lines.push(`  ${'step'.padEnd(48)} ${'rss'.padStart(7)} ${'heap'.padStart(7)} ${'external'.padStart(8)}`);
    for (const stage of probed.stages.stages) {
      lines.push(`  ${stage.stage.padEnd(48)} ${stage.rssMb.toFixed(1).padStart(7)} ${stage.heapMb.toFixed(1).padStart(7)} ${stage.externalMb.toFixed(1).padStart(8)}`);
    }
  }
  return lines.join('\n');
}

export function formatReferenceImages(result: ReferenceImagesResult): string {
  const { options, textOnly, withReferences, ratios } = result;
  // Peak RSS is the worker's high-water mark since it started: on the second night it cannot fall below the first's.
  const row = (name: string, run: ReferenceImagesResult['textOnly']) =>
    `  ${name.padEnd(34)} ${run.itemsPerSecond.toFixed(2).padStart(8)} ${run.seconds.toFixed(1).padStart(8)} ${run.planningSeconds.toFixed(1).padStart(9)} ${run.idleMb.toFixed(0).padStart(8)} ${run.peakMb.toFixed(0).padStart(8)}`;
  return [
    `Reference images: ${options.items} items, bunch worker -c ${options.concurrency}, latency ${options.minMs}-${options.maxMs} ms, 1K output; ` +
      `two ${(result.referenceBytes / 1024 / 1024).toFixed(2)} MB photos per item (distinct)`,
    `  ${''.padEnd(34)} ${'items/s'.padStart(8)} ${'seconds'.padStart(8)} ${'planning'.padStart(9)} ${'idle MB'.padStart(8)} ${'peak MB'.padStart(8)}`,
    row('text only', textOnly),
    row('two references per item', withReferences),
    row('same, second night (all stored)', result.secondNight),
    `  throughput ratio (refs / text) = ${ratios.throughput.toFixed(3)}   peak RSS ratio = ${ratios.peakRss.toFixed(3)}`,
  ].join('\n');
}
