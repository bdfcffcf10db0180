import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type RunningConsole } from '../../../src/console/start-console.js';
import { silentLogger } from '../../../src/logging/create-logger.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';

/** The console's Retry button says what `bunch retry` says: items left out because their inputs changed. */
describe("the console's retry message", () => {
  let stack: BunchStack;
  let open: RunningConsole;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 2 });
    await stack.startWorkers();
    open = await startConsole({ plane: stack.plane, prefix: stack.prefix, port: 0, host: '127.0.0.1', openStore: stack.storeFor, logger: silentLogger(), sampleEveryMs: 60_000 });
  });
  afterAll(async () => {
    await open?.close();
    await stack?.stop();
  });

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
});
