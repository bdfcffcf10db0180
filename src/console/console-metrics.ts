import { Gauge, Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import { shardStatesOf } from '../lanes/batch/shard-state.js';
import { QUEUE_STATES } from '../metrics/worker-metrics.js';
import type { RunMeta, RunStore } from '../runs/run-store.js';

/**
 * The console's `/metrics`: what is in Redis at scrape time, for the fleet as a whole — queue
 * depth per state, the recent runs by status, items of the runs still going by status, and the
 * batch lane's upstream batches by state. (What each worker did is on its own --metrics-port.)
 */
const RECENT_RUNS = 100;

export function consoleRegistry(runs: RunStore, queues: Record<string, Queue>): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'bunch_queue_jobs',
    help: 'Jobs in each BullMQ queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      for (const [name, queue] of Object.entries(queues)) {
        const counts = await queue.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) this.set({ queue: name, state }, counts[state] ?? 0);
      }
    },
  });
  // One read of the recent runs serves the three run gauges of a scrape (a registry collects its
  // metrics concurrently): the read is shared for a second.
  let shared: { at: number; metas: Promise<RunMeta[]> } | undefined;
  const recentRuns = (): Promise<RunMeta[]> => {
    if (!shared || Date.now() - shared.at > 1_000) {
      shared = { at: Date.now(), metas: runs.listRuns(RECENT_RUNS).then(async (ids) => (await Promise.all(ids.map((id) => runs.getMeta(id)))).filter((meta) => meta !== undefined)) };
    }
    return shared.metas;
  };
  new Gauge({
    name: 'bunch_runs',
    help: `The ${RECENT_RUNS} most recent runs by status`,
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const metas = await recentRuns();
      this.reset();
      for (const meta of metas) this.inc({ status: meta.status });
    },
  });
  new Gauge({
    name: 'bunch_active_run_items',
    help: 'Items of runs still going, by status (planned items not yet terminal: "pending")',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const metas = await recentRuns();
      this.reset();
      for (const meta of metas) {
        if (meta.finishedAt) continue;
        for (const [status, count] of Object.entries(meta.counts)) this.inc({ status }, count);
        if (meta.total !== undefined) this.inc({ status: 'pending' }, Math.max(0, meta.total - meta.terminal));
      }
    },
  });
  new Gauge({
    name: 'bunch_batches',
    help: 'Upstream batches of runs still going, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const metas = await recentRuns();
      this.reset();
      for (const meta of metas) {
        if (meta.finishedAt) continue;
        for (const shard of shardStatesOf(meta)) this.inc({ state: shard.upstreamState ?? shard.phase });
      }
    },
  });
  return registry;
}
