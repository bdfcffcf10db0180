import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type RunningConsole } from '../../../src/console/start-console.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { launchChromium } from '../../helpers/browser.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

const TOKEN = 'console-token-0123456789';

/**
 * The operator console in headless Chromium against a real stack: the run list, a run page with
 * its chart, gallery and bull-board, the cancel and retry buttons, and the token when it listens
 * beyond loopback. Set BUNCH_SCREENSHOTS_DIR to keep screenshots (those in docs/ are made so).
 */
describe('the operator console', () => {
  let stack: BunchStack;
  let browser: Browser;
  let local: RunningConsole;
  let finishedRun: string;

  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 4 });
    await stack.startWorkers();
    const job = await stack.writeJob({
      catalogCsv: productCsv(12, (i) => (i % 6 === 0 ? `Desk lamp ${i} [[emu:image-safety]]` : `Desk lamp ${i}`)),
      job: { name: 'console-demo', failureThreshold: { maxFailedRatio: 0.5 } },
    });
    finishedRun = (await stack.start(job)).runId;
    await stack.waitForRun(finishedRun);
    local = await startConsole({
      plane: stack.plane,
      prefix: stack.prefix,
      port: 0,
      host: '127.0.0.1',
      openStore: stack.storeFor,
      logger: silentLogger(),
      sampleEveryMs: 200,
    });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await local?.close();
    await stack?.stop();
  });

  async function screenshot(page: Page, name: string): Promise<void> {
    const dir = process.env.BUNCH_SCREENSHOTS_DIR;
    if (!dir) return;
    await mkdir(dir, { recursive: true });
    // The output location is a temporary directory of the test machine: masked.
    await page.screenshot({ path: path.join(dir, name), fullPage: true, mask: [page.locator('#output')], maskColor: '#dddddd' });
  }

  it('lists the runs; a run page shows counts, chart, errors and the gallery; bull-board shows the queues', async () => {
    // The gallery is written right after the run's status turns final.
    const deadline = Date.now() + 30_000;
    while (!(await stack.storeFor((await stack.plane.runs.getMeta(finishedRun))!.config.outputUrl).head(`runs/${finishedRun}/gallery/index.html`))) {
      if (Date.now() > deadline) throw new Error('no gallery');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const scraped = await (await fetch(`${local.url}/metrics`)).text();
    expect(scraped).toContain('bunch_runs{status="succeeded"} 1');
    expect(scraped).toContain('bunch_queue_jobs{queue="generate",state="waiting"} 0');
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(local.url);
    expect(await page.locator('#runs tbody tr').count()).toBe(1);
    expect(await page.locator('#runs tbody tr td').first().textContent()).toContain(finishedRun);
    await page.click(`a[href="/runs/${finishedRun}"]`);
    expect(await page.locator('h1').textContent()).toContain('console-demo');
    expect(await page.locator('#facts').textContent()).toMatch(/succeeded\s*10\s*failed\s*2/);
    expect(await page.locator('#errors td').first().textContent()).toBe('E_SAFETY_BLOCKED');
    expect(await page.locator('svg.chart polyline').count()).toBe(1);
    await screenshot(page, 'console-run.png');

    await page.click('#gallery');
    await page.waitForSelector('body[data-loaded="true"]');
    await page.waitForFunction('[...document.images].every((image) => image.complete)');
    expect(await page.locator('.tile img').count()).toBe(10);
    expect(await page.evaluate('[...document.images].filter((image) => image.naturalWidth > 0).length')).toBe(10);

    await page.goto(`${local.url}/queues`);
    await page.waitForSelector('text=generate', { timeout: 20_000 });
    expect(await page.title()).toBe('bunch queues');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('cancel and retry call the same code as the CLI', async () => {
    const slow = await stack.start(await stack.writeJob({ catalogCsv: productCsv(30, (i) => `Chair ${i} [[emu:latency=400ms]]`) }));
    const page = await browser.newPage();
    await page.goto(`${local.url}/runs/${slow.runId}`);
    await page.click('#cancel');
    expect(await page.locator('#message').textContent()).toBe('Cancel requested: queued items are recorded cancelled, calls in flight finish.');
    const cancelled = await stack.waitForRun(slow.runId);
    expect([cancelled.status, cancelled.stop]).toEqual(['cancelled', 'E_CANCELLED']);
    expect(cancelled.counts.cancelled).toBeGreaterThan(0);

    await page.goto(`${local.url}/runs/${finishedRun}`);
    await page.click('#retry');
    expect(await page.locator('#message').textContent()).toBe(`Retry of ${finishedRun}: 2 items.`);
    const retryId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const retry = await stack.waitForRun(retryId);
    expect(retry.extra.parentRunId).toBe(finishedRun);
    expect(retry.total).toBe(2);
    await page.close();
  });

  it('beyond loopback: refuses to start without a token, and every request without it', async () => {
    await expect(startConsole({ plane: stack.plane, prefix: stack.prefix, port: 0, host: '0.0.0.0', openStore: stack.storeFor, logger: silentLogger() })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: 'the console listens on 0.0.0.0, beyond this machine: set BUNCH_CONSOLE_TOKEN (every request must then carry it), or listen on 127.0.0.1',
    });
    const guarded = await startConsole({ plane: stack.plane, prefix: stack.prefix, port: 0, host: '0.0.0.0', token: TOKEN, openStore: stack.storeFor, logger: silentLogger() });
    try {
      const base = guarded.url.replace('0.0.0.0', '127.0.0.1');
      for (const route of ['/api/runs', '/metrics', '/queues', `/runs/${finishedRun}`, `/runs/${finishedRun}/files/runs/${finishedRun}/gallery/index.html`]) {
        const refused = await fetch(`${base}${route}`, { redirect: 'manual' });
        expect([route, refused.status]).toEqual([route, 401]);
      }
      expect((await fetch(`${base}/api/runs`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      const allowed = await fetch(`${base}/api/runs`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(allowed.status).toBe(200);
      expect(((await allowed.json()) as { config: { runId: string } }[]).map((meta) => meta.config.runId)).toContain(finishedRun);
      const forged = await fetch(`${base}/runs/${finishedRun}/retry`, { method: 'POST', redirect: 'manual', headers: { authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' } });
      expect(forged.status).toBe(403);

      // A browser is sent to the login form, and the cookie it sets opens the console.
      const page = await browser.newPage();
      await page.goto(`${base}/runs/${finishedRun}`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.fill('input[name="token"]', 'not-the-token-at-all');
      await page.click('button[type="submit"]');
      expect(await page.locator('#message').textContent()).toBe("That token is not the console's.");
      await page.fill('input[name="token"]', TOKEN);
      await page.click('button[type="submit"]');
      expect(new URL(page.url()).pathname).toBe(`/runs/${finishedRun}`);
      expect(await page.content()).not.toContain(TOKEN);
      await page.close();
    } finally {
      await guarded.close();
    }
  });
});
