import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { galleryKeys } from '../../../src/gallery/gallery-keys.js';
import { galleryHtml } from '../../../src/gallery/gallery-page.js';
import { launchChromium } from '../../helpers/browser.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { serveDirectory } from '../../helpers/static-server.js';

/**
 * The run gallery in headless Chromium: a 60-item run with 5 refused items, its gallery written at
 * finalize, opened from a static server (as from a bucket) and from disk. Set
 * BUNCH_SCREENSHOTS_DIR to keep a screenshot (the one in docs/ is made this way).
 */
describe('the run gallery in a browser', () => {
  let stack: BunchStack;
  let browser: Browser;
  let out: string;
  let runId: string;
  let server: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 8 });
    await stack.startWorkers();
    out = path.join(stack.dir.path, 'out');
    const failing = (i: number) => i % 12 === 0;
    const job = await stack.writeJob({
      catalogCsv: productCsv(60, (i) => (failing(i) ? `Linen shirt no ${i} [[emu:image-safety]]` : `Linen shirt no ${i}`)),
      job: { name: 'gallery-demo' },
    });
    const run = await stack.start(job);
    runId = run.runId;
    const meta = await stack.waitForRun(runId);
    expect(meta.counts).toEqual({ succeeded: 55, failed: 5, skipped: 0, cancelled: 0 });
    // The finalizing worker writes the gallery right after the run's status turns final.
    const index = path.join(out, galleryKeys(runId).index);
    const deadline = Date.now() + 30_000;
    while (!(await stat(index).catch(() => undefined))) {
      if (Date.now() > deadline) throw new Error('no gallery 30 s after the run ended');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    server = await serveDirectory(out);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await stack?.stop();
  });

  async function open(url: string): Promise<{ page: Page; requests: string[]; failures: string[] }> {
    // Tall enough that every lazy thumbnail of the first page of cards is in view and loads.
    const page = await browser.newPage({ viewport: { width: 1280, height: 9000 } });
    const requests: string[] = [];
    const failures: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('requestfailed', (request) => failures.push(request.url()));
    page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));
    await page.goto(url);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
    await page.waitForFunction('[...document.images].every((image) => image.complete)', undefined, { timeout: 20_000 });
    return { page, requests, failures };
  }

  const tiles = (page: Page, selector: string) => page.locator(selector).count();

  it('served over HTTP: 55 thumbnails and 5 error tiles, filters work, and nothing is loaded from elsewhere', async () => {
    const { page, requests, failures } = await open(`${server.url}/runs/${runId}/gallery/index.html`);
    expect(await tiles(page, '.tile img')).toBe(55);
    expect(await page.evaluate('[...document.images].filter((image) => image.naturalWidth > 0).length')).toBe(55);
    expect(await tiles(page, '.tile .err')).toBe(5);
    expect(await page.locator('.tile .err').first().textContent()).toMatch(/^E_SAFETY_BLOCKED: /);
    // Refused images are billed too (60 × $0.058), and 5 of 60 failed is past the run's threshold.
    expect(await page.locator('#facts').textContent()).toBe('60 items · 55 succeeded · 5 failed · $3.4800 · run failed');

    await page.selectOption('#status', 'failed');
    expect(await tiles(page, '.tile')).toBe(5);
    expect(await page.locator('.tile').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-status')))).toEqual(Array(5).fill('failed'));
    await page.selectOption('#status', '');
    await page.selectOption('#code', 'E_SAFETY_BLOCKED');
    expect(await tiles(page, '.tile')).toBe(5);
    await page.selectOption('#code', '');
    await page.fill('#search', 'SKU-0013');
    expect(await tiles(page, '.tile')).toBe(1);
    await page.locator('.tile').first().click();
    expect(await page.locator('#detail').isVisible()).toBe(true);
    expect(await page.locator('#detail-body h2').textContent()).toBe('SKU-0013 · main');
    expect(await page.locator('#detail-body dd').first().textContent()).toBe('succeeded');
    expect(await page.locator('#detail-body dd').nth(1).textContent()).toBe('Studio product photo of Linen shirt no 13');
    await page.locator('#close').click();

    // Catalog order: the first card is the first row.
    await page.fill('#search', '');
    expect(await page.locator('.card h2').first().textContent()).toBe('SKU-0001');
    expect(failures).toEqual([]);
    const elsewhere = requests.filter((url) => !url.startsWith(`${server.url}/runs/${runId}/gallery/`));
    expect(elsewhere).toEqual([]);
    const screenshots = process.env.BUNCH_SCREENSHOTS_DIR;
    if (screenshots) {
      await mkdir(screenshots, { recursive: true });
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: path.join(screenshots, 'gallery.png') });
    }
    await page.close();
  });

  it('opened from disk: the same page works without a server', async () => {
    const index = pathToFileURL(path.join(out, galleryKeys(runId).index)).href;
    const { page, failures } = await open(index);
    expect(await tiles(page, '.tile img')).toBe(55);
    expect(await page.evaluate('[...document.images].filter((image) => image.naturalWidth > 0).length')).toBe(55);
    expect(failures).toEqual([]);
    await page.close();
  });

  it('thumbnails are small WebP images; the data pages carry every item once', async () => {
    const folder = path.join(out, galleryKeys(runId).folder);
    const data = await readFile(path.join(folder, 'data/page-00001.js'), 'utf8');
    const tilesData = JSON.parse(data.slice(data.indexOf('['), data.lastIndexOf(']') + 1)) as { key: string; thumb?: string; status: string }[];
    // In the manifest's order (as items ended); the page sorts them into catalog order.
    expect(tilesData.map((tile) => tile.key).sort()).toEqual(Array.from({ length: 60 }, (_, i) => `SKU-${String(i + 1).padStart(4, '0')}`));
    const withThumbs = tilesData.filter((tile) => tile.thumb);
    expect(withThumbs).toHaveLength(55);
    const metadata = await sharp(path.join(folder, withThumbs[0]!.thumb!)).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['webp', 320, 320]);
  });

  it('shows the variants of one catalog row side by side, and filters by variant', async () => {
    const job = await stack.writeJob({
      catalogCsv: productCsv(3, (i) => `Wool scarf ${i}`),
      job: { name: 'gallery-variants', variants: [{ name: 'square' }, { name: 'tall', aspectRatio: '3:4', imageSize: '512' }] },
    });
    const run = await stack.start(job);
    expect((await stack.waitForRun(run.runId)).counts.succeeded).toBe(6);
    const index = path.join(out, galleryKeys(run.runId).index);
    const deadline = Date.now() + 30_000;
    while (!(await stat(index).catch(() => undefined))) {
      if (Date.now() > deadline) throw new Error('no gallery 30 s after the run ended');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { page, failures } = await open(pathToFileURL(index).href);
    expect(await page.locator('.card h2').allTextContents()).toEqual(['SKU-0001', 'SKU-0002', 'SKU-0003']);
    const perCard = await page.locator('.card').evaluateAll((cards) => cards.map((card) => [...card.querySelectorAll('.tile .meta span:nth-child(2)')].map((node) => node.textContent)));
    expect(perCard).toEqual([['square', 'tall'], ['square', 'tall'], ['square', 'tall']]);
    await page.selectOption('#variant', 'tall');
    expect(await tiles(page, '.tile')).toBe(3);
    expect(failures).toEqual([]);
    await page.close();
  });

  it('lists the counts in one fixed status order, whatever order the manifest met them in', async () => {
    // The manifest is in completion order: a refused item may come first (this once made CI red).
    const page = await browser.newPage();
    await page.setContent(galleryHtml({
      runId: 'r1', jobName: 'order', status: 'failed', pages: 0, total: 9,
      counts: { rejected: 1, failed: 2, skipped: 1, succeeded: 5, cancelled: 0 },
      costUsd: 0.5, variants: [], errorCodes: [], generatedAt: '2026-12-04T00:00:00.000Z',
    }));
    expect(await page.locator('#facts').textContent()).toBe('9 items · 5 succeeded · 2 failed · 1 skipped · 1 rejected · $0.5000 · run failed');
    await page.close();
  });
});
