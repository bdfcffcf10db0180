import { Gauge, Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import { shardStatesOf } from '../lanes/batch/shard-state.js';
import { QUEUE_STATES } from '../metrics/worker-metrics.js';
import type { RunStore } from '../runs/run-store.js';

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
  // Registered after the scrape gauge below, which reads the runs once and fills all three (a
  // registry collects its metrics in the order they were registered).
  const runsByStatus = new Gauge({ name: 'bunch_runs', help: `The ${RECENT_RUNS} most recent runs by status`, labelNames: ['status'], registers: [] });
  const activeItems = new Gauge({ name: 'bunch_active_run_items', help: 'Items of runs still going, by status (planned items not yet terminal: "pending")', labelNames: ['status'], registers: [] });
  const batches = new Gauge({ name: 'bunch_batches', help: 'Upstream batches of runs still going, by state', labelNames: ['state'], registers: [] });
  new Gauge({
    name: 'bunch_console_scrape_runs',
    help: 'Runs read for this scrape',
    registers: [registry],
    async collect() {
      runsByStatus.reset();
      activeItems.reset();
      batches.reset();
      const metas = (await Promise.all((await runs.listRuns(RECENT_RUNS)).map((id) => runs.getMeta(id)))).filter((meta) => meta !== undefined);
      for (const meta of metas) {
        runsByStatus.inc({ status: meta.status });
        if (meta.finishedAt) continue;
        for (const [status, count] of Object.entries(meta.counts)) activeItems.inc({ status }, count);
        if (meta.total !== undefined) activeItems.inc({ status: 'pending' }, Math.max(0, meta.total - meta.terminal));
        for (const shard of shardStatesOf(meta)) batches.inc({ state: shard.upstreamState ?? shard.phase });
      }
      this.set(metas.length);
    },
  });
  for (const gauge of [runsByStatus, activeItems, batches]) registry.registerMetric(gauge);
  return registry;
}
