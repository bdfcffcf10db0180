import path from 'node:path';
import { Redis } from 'ioredis';
import { openControlPlane } from '../../src/cli/control-plane.js';
import { startRun } from '../../src/lanes/start-run.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { loadJobFile } from '../../src/spec/load-job-file.js';
import { openObjectStore } from '../../src/storage/open-object-store.js';
import { writeBenchJob } from './bench-job.js';
import type { BenchServices } from './bench-services.js';
import { waitForRun } from './wait-for-run.js';
import { startWorkerChild, type WorkerChild } from './worker-child.js';

/**
 * Part "scale": 1, 2 and 4 `bunch worker` processes against one Redis at zero latency. Reports
 * items/s in all and per process, and the Redis server's CPU (INFO cpu, user + sys, over the
 * run's wall time), so a night's fleet and Redis can be sized from the figures. The emulator runs
 * in this process; every configuration shares it and the machine alike.
 */
export interface ScaleOutOptions {
  items: number;
  processes: number[];
  concurrencyPerProcess: number;
}

export interface ScaleOutRow {
  processes: number;
  itemsPerSecond: number;
  perProcess: number;
  /** Redis CPU seconds per wall second during the run (1.0 = one core busy). */
  redisCpu: number;
  redisCpuMsPerItem: number;
}

export async function runScaleOut(services: BenchServices, options: ScaleOutOptions): Promise<ScaleOutRow[]> {
  services.emulator.setKnobs({ latency: { kind: 'fixed', ms: 0 }, realisticPayload: false });
  const rows: ScaleOutRow[] = [];
  const admin = new Redis(services.redis.url);
  try {
    for (const processes of options.processes) {
      const prefix = services.newPrefix(`scale${processes}`);
      const dir = path.join(services.dir.path, prefix);
      const jobFile = await writeBenchJob({ dir, name: `scale-${processes}`, items: options.items, imageSize: '512', outputUrl: `file://${path.join(dir, 'out')}` });
      const env = { REDIS_URL: services.redis.url, BUNCH_PREFIX: prefix, GEMINI_BASE_URL: services.emulator.url, GEMINI_API_KEY: services.emulator.apiKey ?? 'unused', BUNCH_LOG_LEVEL: 'warn' };
      const workers: WorkerChild[] = [];
      const plane = await openControlPlane(services.redis.url, prefix);
      try {
        for (let i = 0; i < processes; i += 1) workers.push(await startWorkerChild({ ...env, BUNCH_LOG_LEVEL: 'info' }, ['--concurrency', String(options.concurrencyPerProcess)]));
        const job = await loadJobFile(jobFile);
        const cpuBefore = await redisCpuSeconds(admin);
        const started = performance.now();
        const run = await startRun(job, { runs: plane.runs, queues: plane.queues, openStore: (url) => openObjectStore(url), logger: silentLogger() });
        await waitForRun(plane.runs, run.runId, options.items);
        const seconds = (performance.now() - started) / 1000;
        const cpu = (await redisCpuSeconds(admin)) - cpuBefore;
        rows.push({
          processes,
          itemsPerSecond: options.items / seconds,
          perProcess: options.items / seconds / processes,
          redisCpu: cpu / seconds,
          redisCpuMsPerItem: (cpu * 1000) / options.items,
        });
      } finally {
        await Promise.all(workers.map((worker) => worker.stop()));
        await plane.close();
      }
    }
  } finally {
    admin.disconnect();
  }
  return rows;
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const value = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return value('used_cpu_user') + value('used_cpu_sys');
}

export function formatScaleOut(rows: ScaleOutRow[], options: ScaleOutOptions): string {
  const base = rows[0]?.itemsPerSecond ?? 1;
  return [
    `Scale-out at zero latency: ${options.items} items, ${options.concurrencyPerProcess} calls per process`,
    '| worker processes | items/s | per process | vs 1 process | Redis CPU (cores) | Redis CPU ms/item |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.processes} | ${row.itemsPerSecond.toFixed(0)} | ${row.perProcess.toFixed(0)} | ${(row.itemsPerSecond / base).toFixed(2)} | ${row.redisCpu.toFixed(2)} | ${row.redisCpuMsPerItem.toFixed(3)} |`,
    ),
  ].join('\n');
}
