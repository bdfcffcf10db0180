import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../../src/gemini/gemini-client.js';
import { createBatchProcessor } from '../../../src/lanes/batch/batch-processor.js';
import { readShardState } from '../../../src/lanes/batch/shard-state.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { deliverUntilDone, paidCalls, plannedBudgetShard } from './batch-harness.js';

/**
 * A result file is the API's text: a line of an unexpected shape (a numeric key, an error whose
 * message is not text) is one item unplaced or failed, never the collection's failure. Before,
 * such a line threw a TypeError out of every delivery; once BullMQ gave up on the job, the whole
 * shard — its served items too — went to the sync lane and was paid for again.
 */
let stack: BunchStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** A client whose downloaded result files pass through `edit` (one JSON value per line) first. */
function editingDownloads(open: BunchStack, edit: (lines: Record<string, unknown>[]) => unknown[]) {
  const real = createGeminiClient({ baseUrl: open.emulator.url, apiKey: open.emulator.apiKey ?? 'unused' });
  const download: typeof real.download = async (path, destination, options) => {
    const result = await real.download(path, destination, options);
    if (typeof destination !== 'string') throw new Error('the collection downloads to a file');
    const lines = (await readFile(destination, 'utf8'))
      .split('\n')
      .filter((text) => text.trim() !== '')
      .map((text) => JSON.parse(text) as Record<string, unknown>);
    await writeFile(destination, `${edit(lines).map((line) => JSON.stringify(line)).join('\n')}\n`);
    return result;
  };
  return Object.create(real, { download: { value: download } }) as typeof real;
}

describe('a batch result file with malformed lines', () => {
  it('collects the good lines and moves only the unreadable ones on', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 0, runningMs: 100 } } } });
    const fixture = await plannedBudgetShard(stack);
    const { runId, shard, runs } = fixture;
    let edited = 0;
    const client = editingDownloads(stack, (lines) => {
      edited += 1;
      expect(lines).toHaveLength(4);
      const [first, second, ...rest] = lines as [Record<string, unknown>, Record<string, unknown>, ...Record<string, unknown>[]];
      return [
        // A key that is not text: the line cannot be placed, so its item counts as not served.
        { ...first, key: 12345 },
        // An error whose code is text and whose message is an object: a failed line (E_BATCH).
        { key: second.key, error: { code: '14', message: { detail: 'overloaded' } } },
        ...rest,
      ];
    });
    const processor = createBatchProcessor(fixture.deps(runs, client));

    // Before: TypeError (`line.key?.slice is not a function`) out of every delivery.
    expect(await deliverUntilDone(processor, fixture.job)).toBe('collected');

    expect(edited).toBe(1);
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', outcome: { succeeded: 2, failed: 0, spilled: 2 } });
    expect(await stack.plane.queues.generate.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBe(2);
    const meta = await runs.getMeta(runId);
    expect(meta?.counts).toMatchObject({ succeeded: 2 });
    expect(meta?.costUsd).toBeCloseTo(2 * 0.029, 9);
    expect(paidCalls(stack)).toEqual({ http: 0, batch: 4 });
    await fixture.close();
  });

  it('ignores lines that are not objects or have no key, and still collects the rest', async () => {
    stack = await startBunchStack({ emulator: { profile: { batch: { pendingMs: 0, runningMs: 100 } } } });
    const fixture = await plannedBudgetShard(stack);
    const { runId, shard, runs } = fixture;
    const client = editingDownloads(stack, (lines) => {
      const [first, ...rest] = lines as [Record<string, unknown>, ...Record<string, unknown>[]];
      const { key: _dropped, ...keyless } = first;
      return [null, 'a line of text', [1, 2], keyless, { key: rest[0]?.key, error: 'unavailable' }, ...rest.slice(1)];
    });
    const processor = createBatchProcessor(fixture.deps(runs, client));

    expect(await deliverUntilDone(processor, fixture.job)).toBe('collected');

    // The keyless line's item was not served; the string error is an error line of unknown code.
    expect(await readShardState(runs, runId, shard)).toMatchObject({ phase: 'done', outcome: { succeeded: 2, failed: 0, spilled: 2 } });
    expect((await runs.getMeta(runId))?.counts).toMatchObject({ succeeded: 2 });
    await fixture.close();
  });
});
