import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { ShardWriter } from '../../../src/lanes/batch/shard-writer.js';
import type { ItemTarget } from '../../../src/plan/planned-item.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { openObjectStore } from '../../../src/storage/open-object-store.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

/**
 * One of a shard's two temp files cannot be written (EMFILE, ENOSPC; here a folder in its place,
 * EISDIR on the real file system) while the other is fine and waits for 'drain' (a request line
 * above the stream's 16 KiB buffer, as inline images make). Before: add() wrote on to the broken
 * stream, which never drains again, and waited forever — a `bunch run`, a schedule firing or a
 * console retry hung with its planner lease renewed, its run `planning` for good.
 */
describe('a batch shard whose temp file fails while planning writes it', () => {
  let dir: TempDir;
  let store: ObjectStore;
  beforeEach(async () => {
    dir = await tempDir('shard-writer-failure');
    store = openObjectStore(`file://${path.join(dir.path, 'out')}`);
  });
  afterEach(async () => {
    await store.close();
    await dir.remove();
  });

  const target = (i: number) => ({ itemKey: `k${i}#main`, inputHash: `h${i}`, markerKey: `m${i}` }) as unknown as ItemTarget;
  const bigRequest = { contents: [{ role: 'user', parts: [{ text: 'x'.repeat(40_000) }] }] };

  async function writerWithBrokenFile(kind: 'targets' | 'requests'): Promise<ShardWriter> {
    const planning = path.join(dir.path, 'plan');
    await mkdir(path.join(planning, `s0001.${kind}.jsonl`), { recursive: true });
    return new ShardWriter({ runId: 'r1', store, dir: planning, maxRequests: 1000, shardName: (seq) => `s${String(seq).padStart(4, '0')}`, onShard: async () => undefined });
  }

  for (const kind of ['targets', 'requests'] as const) {
    it(`add() fails E_STORAGE when the ${kind} file cannot be written, instead of waiting for ever`, async () => {
      const writer = await writerWithBrokenFile(kind);
      let failure: unknown;
      try {
        // A few lines: the first may be buffered before the file's open fails.
        for (let i = 0; i < 5 && failure === undefined; i += 1) await writer.add(target(i), bigRequest).catch((error: unknown) => (failure = error));
      } finally {
        writer.abort();
      }
      expect(failure).toBeInstanceOf(BunchError);
      expect((failure as BunchError).code).toBe('E_STORAGE');
      expect((failure as BunchError).message).toMatch(/^cannot write a batch shard file: EISDIR: illegal operation on a directory/);
    });
  }

  it('close() fails E_STORAGE when a file broke after its last line was written', async () => {
    const writer = await writerWithBrokenFile('targets');
    const added = await writer.add(target(0), { contents: [{ role: 'user', parts: [{ text: 'small' }] }] }).then(
      () => 'added',
      (error: unknown) => error,
    );
    const closed = await (added === 'added' ? writer.close() : Promise.reject(added)).catch((error: unknown) => error);
    expect(closed).toBeInstanceOf(BunchError);
    expect((closed as BunchError).code).toBe('E_STORAGE');
  });
});
