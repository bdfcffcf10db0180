import { createInterface } from 'node:readline';
import { TERMINAL_RUN_STATUSES } from '../runs/run-config.js';
import { runObjectKeys } from '../runs/run-keys.js';
import type { RunMeta, RunStore } from '../runs/run-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ThroughputPoint } from './throughput-chart.js';

/**
 * Where a run page's throughput chart comes from. A finished run: its manifest, read once as a
 * stream (each item's finishedAt, counted in at most 120 time buckets) and kept. A running run:
 * the console's own samples of the run's terminal count, every few seconds while it runs (at
 * most 720 a run, the oldest dropped); a run the console never saw start begins at its startedAt.
 */
const BUCKETS = 120;
const MAX_SAMPLES = 720;
const MAX_CACHED = 200;

export class ThroughputSource {
  private readonly samples = new Map<string, ThroughputPoint[]>();
  private readonly finished = new Map<string, ThroughputPoint[]>();
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(
    private readonly runs: RunStore,
    private readonly openStore: (url: string) => ObjectStore,
  ) {}

  /** Samples the most recent runs that are still going, every `everyMs`, until stop(). */
  start(everyMs = 5_000): void {
    this.timer = setInterval(() => void this.sampleActive().catch(() => undefined), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  note(meta: RunMeta): void {
    if (TERMINAL_RUN_STATUSES.includes(meta.status)) return;
    const id = meta.config.runId;
    const list = this.samples.get(id) ?? [{ at: Date.parse(meta.startedAt), done: 0 }];
    list.push({ at: Date.now(), done: meta.terminal });
    if (list.length > MAX_SAMPLES) list.splice(1, list.length - MAX_SAMPLES);
    this.samples.set(id, list);
  }

  async pointsFor(meta: RunMeta): Promise<ThroughputPoint[]> {
    const id = meta.config.runId;
    if (!TERMINAL_RUN_STATUSES.includes(meta.status)) {
      this.note(meta);
      return this.samples.get(id) ?? [];
    }
    const cached = this.finished.get(id);
    if (cached) return cached;
    const points = await this.fromManifest(meta).catch(() => []);
    if (points.length > 0) {
      if (this.finished.size >= MAX_CACHED) this.finished.delete(this.finished.keys().next().value as string);
      this.finished.set(id, points);
      this.samples.delete(id);
    }
    return points;
  }

  /** Runs whose samples are held now (the console's memory for charts of running runs). */
  sampledRuns(): string[] {
    return [...this.samples.keys()];
  }

  /**
   * One look at the recent runs. A run that ended, or dropped out of the recent ones, lets go of
   * its samples here: before, only a viewer opening its page after it ended did, and every run
   * that finished unseen kept up to 720 points for the console's life. Overlapping looks (Redis
   * slow past the interval) are skipped, not stacked.
   */
  async sampleActive(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const recent = new Set(await this.runs.listRuns(50));
      for (const id of recent) {
        const meta = await this.runs.getMeta(id);
        if (meta && !TERMINAL_RUN_STATUSES.includes(meta.status)) this.note(meta);
        else this.samples.delete(id);
      }
      for (const id of this.samples.keys()) if (!recent.has(id)) this.samples.delete(id);
    } finally {
      this.sampling = false;
    }
  }

  private async fromManifest(meta: RunMeta): Promise<ThroughputPoint[]> {
    const store = this.openStore(meta.config.outputUrl);
    try {
      const stream = await store.getStream(runObjectKeys(meta.config.runId).manifest);
      if (!stream) return [];
      const start = Date.parse(meta.startedAt);
      const end = Date.parse(meta.finishedAt ?? new Date().toISOString());
      const width = Math.max(1, (end - start) / BUCKETS);
      const counts = new Array<number>(BUCKETS + 1).fill(0);
      for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
        const match = /"finishedAt":"([^"]+)"/.exec(line);
        if (!match || line.includes('"status":"rejected"')) continue;
        const at = Date.parse(match[1]!);
        const bucket = Math.min(BUCKETS, Math.max(0, Math.ceil((at - start) / width)));
        counts[bucket] = (counts[bucket] ?? 0) + 1;
      }
      let done = 0;
      return counts.map((count, index) => {
        done += count;
        return { at: start + index * width, done };
      });
    } finally {
      await store.close();
    }
  }
}
