import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type RunningConsole } from '../../../src/console/start-console.js';
import type { Logger } from 'pino';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { capturedLogger } from '../../helpers/captured-logger.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/** A console on a free loopback port over the stack's Redis and stores. */
function consoleOn(stack: BunchStack, options: { retryAnswerWithinMs?: number; closeWaitMs?: number; logger?: Logger } = {}): Promise<RunningConsole> {
  return startConsole({ plane: stack.plane, prefix: stack.prefix, port: 0, host: '127.0.0.1', openStore: stack.storeFor, logger: silentLogger(), sampleEveryMs: 60_000, ...options });
}

/** The console's Retry button says what `bunch retry` says: items left out because their inputs changed. */
describe("the console's retry message", () => {
  let stack: BunchStack;
  let open: RunningConsole;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 2 });
    await stack.startWorkers();
    open = await consoleOn(stack);
  });
  afterAll(async () => {
    await open?.close();
    await stack?.stop();
  });

  /**
   * A run with one failed item, its catalog then grown by `extraRows` new products, and Retry
   * pressed on `on`: the retry's planning reads them all. Answers the retry run's id (once it
   * exists) and the pending answer of the button.
   */
  async function retryOfGrownCatalog(on: RunningConsole, sku: string, extraRows: number): Promise<{ retryId: string; answer: Promise<unknown> }> {
    const csv = ['sku,title', `${sku},"${sku.toLowerCase()} [[emu:fail-first=1:500]]"`].join('\n');
    const jobFile = await stack.writeJob({ catalogCsv: csv, job: { sync: { attempts: 1 } } });
    const parent = await stack.start(jobFile);
    expect((await stack.waitForRun(parent.runId)).counts).toMatchObject({ failed: 1 });
    const more = Array.from({ length: extraRows }, (_, i) => `${sku}-${i},more ${i}`);
    await writeFile((await loadJobFile(jobFile)).catalog.path, [csv, ...more].join('\n'));
    const answer = fetch(`${on.url}/runs/${parent.runId}/retry`, { method: 'POST', redirect: 'manual', headers: { origin: on.url } }).catch(() => undefined);
    let retryId: string | undefined;
    for (let tries = 0; tries < 400 && !retryId; tries += 1) {
      for (const id of await stack.plane.runs.listRuns(10)) if ((await stack.plane.runs.getMeta(id))?.extra.parentRunId === parent.runId) retryId = id;
      if (!retryId) await new Promise((r) => setTimeout(r, 10));
    }
    expect(retryId).toBeDefined();
    return { retryId: retryId as string, answer };
  }

  it('names the failed items left out because their rows changed since', async () => {
    const csv = ['sku,title', 'P1,"one [[emu:fail-first=1:500]]"', 'P2,"two [[emu:fail-first=1:500]]"', 'P3,three'].join('\n');
    const jobFile = await stack.writeJob({ catalogCsv: csv, job: { sync: { attempts: 1 } } });
    const parent = await stack.start(jobFile);
    expect((await stack.waitForRun(parent.runId)).counts).toMatchObject({ succeeded: 1, failed: 2 });
    // P2's title is edited before the retry: its inputs are no longer the failed item's.
    await writeFile((await loadJobFile(jobFile)).catalog.path, csv.replace('two [[emu:fail-first=1:500]]', 'two, edited'));

    const answer = await fetch(`${open.url}/runs/${parent.runId}/retry`, { method: 'POST', redirect: 'manual', headers: { origin: open.url } });
    expect(answer.status).toBe(303);
    const message = new URL(answer.headers.get('location') as string, open.url).searchParams.get('message');
    // Before: "Retry of …: 1 items." with nothing about P2.
    expect(message).toBe(`Retry of ${parent.runId}: 1 items. 1 left out: their inputs changed since (P2#main).`);
  });

  it('answers with the new run while a long planning goes on, and names what was left out on its page when it ends', async () => {
    const patient = await consoleOn(stack, { retryAnswerWithinMs: 0 });
    try {
      const csv = ['sku,title', 'Q1,"uno [[emu:fail-first=1:500]]"', 'Q2,"dos [[emu:fail-first=1:500]]"'].join('\n');
      const jobFile = await stack.writeJob({ catalogCsv: csv, job: { sync: { attempts: 1 } } });
      const parent = await stack.start(jobFile);
      expect((await stack.waitForRun(parent.runId)).counts).toMatchObject({ failed: 2 });
      // Q2 edited, and the catalog grown by 20,000 new products: planning the retry reads them all.
      const more = Array.from({ length: 20_000 }, (_, i) => `N${i},new ${i}`);
      await writeFile((await loadJobFile(jobFile)).catalog.path, [csv.replace('dos [[emu:fail-first=1:500]]', 'dos, edited'), ...more].join('\n'));

      const answer = await fetch(`${patient.url}/runs/${parent.runId}/retry`, { method: 'POST', redirect: 'manual', headers: { origin: patient.url } });
      expect(answer.status).toBe(303);
      const location = new URL(answer.headers.get('location') as string, patient.url);
      const retryId = decodeURIComponent(location.pathname.split('/').pop()!);
      // Before: the request waited for the whole planning (a big catalog outlasts a proxy's timeout).
      expect(location.searchParams.get('message')).toBe(`Retry of ${parent.runId} is being planned; items left out, if any, are named on this page once it is.`);
      expect((await stack.plane.runs.getMeta(retryId))?.extra.parentRunId).toBe(parent.runId);

      const retry = await stack.waitForRun(retryId);
      expect([retry.total, retry.counts.succeeded]).toEqual([1, 1]);
      const leftOut = '1 left out: their inputs changed since (Q2#main).';
      for (let tries = 0; (await stack.plane.runs.getMeta(retryId))?.extra.retryLeftOut !== leftOut && tries < 100; tries += 1) await new Promise((r) => setTimeout(r, 50));
      const page = await (await fetch(`${patient.url}/runs/${retryId}`)).text();
      expect(page).toContain(`<dt>left out</dt><dd id="left-out">${leftOut}</dd>`);
    } finally {
      await patient.close();
    }
  });

  it('a second click while the first retry is still being started starts no second retry', async () => {
    const patient = await consoleOn(stack, { retryAnswerWithinMs: 30_000 });
    try {
      const { retryId, answer } = await retryOfGrownCatalog(patient, 'D1', 60_000);
      const parentId = (await stack.plane.runs.getMeta(retryId))?.extra.parentRunId as string;
      const again = await fetch(`${patient.url}/runs/${parentId}/retry`, { method: 'POST', redirect: 'manual', headers: { origin: patient.url } });
      expect(again.status).toBe(303);
      const location = new URL(again.headers.get('location') as string, patient.url);
      expect(location.pathname).toBe(`/runs/${parentId}`);
      expect(location.searchParams.get('message')).toBe(`A retry of ${parentId} is already being started from this console; its run appears in the run list once it exists.`);
      await answer;
      // Before: the second click planned a retry of its own (two runs retrying the same items).
      const retries = [];
      for (const id of await stack.plane.runs.listRuns(50)) if ((await stack.plane.runs.getMeta(id))?.extra.parentRunId === parentId) retries.push(id);
      expect(retries).toEqual([retryId]);
    } finally {
      await patient.close();
    }
  });

  it('stopping the console while a retry plans (inside the answer window) waits for that planning', async () => {
    const stopping = await consoleOn(stack, { retryAnswerWithinMs: 30_000 });
    const { retryId, answer } = await retryOfGrownCatalog(stopping, 'R1', 60_000);
    await stopping.close();
    // Before: close() returned at once and the run was left half planned (its planner went on unowned).
    expect((await stack.plane.runs.getMeta(retryId))?.planned).toBe(true);
    await answer;
  });

  it('stopping the console waits for such a planning no longer than its bound, and says what it left', async () => {
    const log = capturedLogger();
    const stopping = await consoleOn(stack, { retryAnswerWithinMs: 30_000, closeWaitMs: 100, logger: log.logger });
    const { retryId, answer } = await retryOfGrownCatalog(stopping, 'S1', 150_000);
    await stopping.close();
    // Before: close() waited for the whole planning, however long the catalog.
    expect((await stack.plane.runs.getMeta(retryId))?.planned).toBe(false);
    expect(log.lines('stopping with retries still being planned: their runs are ended by the worker fleet once their planner\'s lease lapses')).toEqual([
      expect.objectContaining({ level: 40, plannings: 1 }),
    ]);
    await answer;
    // This process lives on, so the planning ends here by itself.
    for (let tries = 0; tries < 600 && !(await stack.plane.runs.getMeta(retryId))?.planned; tries += 1) await new Promise((r) => setTimeout(r, 50));
    expect((await stack.plane.runs.getMeta(retryId))?.planned).toBe(true);
  });
});
