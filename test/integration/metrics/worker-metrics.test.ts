import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRegistry } from '../../../src/console/console-metrics.js';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { startMetricsServer, type MetricsServer } from '../../../src/metrics/metrics-server.js';
import { WorkerMetrics } from '../../../src/metrics/worker-metrics.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/** Prometheus text → `name{labels}` → value (labels as printed, sorted by prom-client). */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

/**
 * A worker's /metrics after a run with refusals, a 503 and a 429, scraped over HTTP and checked
 * against the run's manifest and the emulator's request log.
 */
describe('worker metrics', () => {
  let stack: BunchStack;
  let metrics: WorkerMetrics;
  let server: MetricsServer;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    metrics = new WorkerMetrics();
    await stack.startWorkers({ metrics });
    server = await startMetricsServer(metrics.registry, 0);
  });
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  it('counts items, cost, calls by outcome, latency, 429s and pauses as the manifest and the emulator saw them', async () => {
    const title = (i: number) =>
      i % 10 === 0 ? `Lamp ${i} [[emu:image-safety]]` : i === 3 ? `Lamp 3 [[emu:fail-first=1:503]]` : i === 4 ? `Lamp 4 [[emu:fail-first=1:429:retry=300ms]]` : `Lamp ${i}`;
    const run = await stack.start(await stack.writeJob({ catalogCsv: productCsv(20, title), job: { failureThreshold: { maxFailedRatio: 0.5 } } }));
    const meta = await stack.waitForRun(run.runId);
    expect(meta.counts).toEqual({ succeeded: 18, failed: 2, skipped: 0, cancelled: 0 });
    const manifest = (await stack.readManifest(stack.storeFor(run.outputUrl), run.runId)).filter(
      (line: ManifestLine): line is ManifestItemLine => line.status !== 'rejected',
    );

    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const values = parseMetrics(await response.text());
    expect(values.get('bunch_items_total{status="succeeded",lane="sync"}')).toBe(18);
    expect(values.get('bunch_items_total{status="failed",lane="sync"}')).toBe(2);
    const cost = manifest.reduce((sum, line) => sum + line.costUsd, 0);
    expect(values.get('bunch_cost_usd_total{lane="sync"}')).toBeCloseTo(cost, 9);
    expect(cost).toBeCloseTo(meta.costUsd, 9);

    const answered = stack.emulator.requestLog.count({ route: 'generateContent', status: 200 });
    expect(values.get('bunch_model_calls_total{outcome="ok",protocol="gemini"}')).toBe(answered - 2);
    expect(values.get('bunch_model_calls_total{outcome="E_SAFETY_BLOCKED",protocol="gemini"}')).toBe(2);
    expect(values.get('bunch_model_calls_total{outcome="E_UPSTREAM",protocol="gemini"}')).toBe(1);
    expect(values.get('bunch_model_calls_total{outcome="E_RATE_LIMITED",protocol="gemini"}')).toBe(1);
    expect(values.get('bunch_rate_limited_total')).toBe(1);
    expect(values.get('bunch_queue_pauses_total')).toBe(1);
    const calls = manifest.reduce((sum, line) => sum + line.attempts, 0);
    const histogramCount = [...values].filter(([name]) => name.startsWith('bunch_model_call_seconds_count')).reduce((sum, [, value]) => sum + value, 0);
    expect(histogramCount).toBe(calls);
    expect(values.get('bunch_model_calls_in_flight')).toBe(0);
    // Queue depth is read from Redis at the scrape: the run is over, nothing waits.
    expect(values.get('bunch_queue_jobs{queue="generate",state="waiting"}')).toBe(0);
    expect(values.get('bunch_queue_jobs{queue="generate",state="active"}')).toBe(0);
    expect(values.has('bunch_process_resident_memory_bytes')).toBe(true);

    expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('the Grafana dashboard in docs/ asks only for metrics a worker or the console serves', async () => {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/grafana-dashboard.json');
    const dashboard = JSON.parse(await readFile(file, 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const queues = { generate: stack.plane.queues.generate, batch: stack.plane.queues.batch, finalize: stack.plane.queues.finalize };
    const served = new Set([...(await metrics.registry.getMetricsAsJSON()), ...(await consoleRegistry(stack.plane.runs, queues).getMetricsAsJSON())].map((metric) => metric.name));
    const asked = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => target.expr.match(/bunch_[a-z_]+/g) ?? []));
    expect(asked.length).toBeGreaterThan(10);
    const unknown = asked.map((name) => name.replace(/_(bucket|count|sum)$/, '')).filter((name) => !served.has(name));
    expect(unknown).toEqual([]);
  });
});
