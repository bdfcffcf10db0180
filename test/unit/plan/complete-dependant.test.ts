import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CatalogEvent } from '../../../src/catalog/catalog-event.js';
import { completeDependant } from '../../../src/plan/complete-dependant.js';
import { computeInputHash, markerKey } from '../../../src/plan/item-identity.js';
import { planItems } from '../../../src/plan/plan-items.js';
import type { PlannedItem } from '../../../src/plan/planned-item.js';
import { resolveJob } from '../../../src/spec/resolve-job.js';

const hero = (digit: string) => ({ sha256: digit.repeat(64), mimeType: 'image/png', bytes: 5000, width: 1024, height: 1024 });

function job(variants: unknown) {
  return resolveJob(
    { name: 'h', catalog: { path: 'c.csv', key: 'sku' }, model: 'gemini-3.1-flash-image-preview', prompt: 'Hero of {{title}}', variants, output: { url: 'file://out' } },
    { file: path.resolve('/data/job.yaml') },
  );
}

async function planRow(variants: unknown, fields: Record<string, string>) {
  async function* source(): AsyncGenerator<CatalogEvent> {
    yield { kind: 'row', row: { rowNumber: 1, line: 2, key: 'K1', fields: { sku: 'K1', ...fields } } };
  }
  const out = [];
  for await (const event of planItems(job(variants), source())) out.push(event);
  return out;
}

describe('hero → variants planning', () => {
  const variants = [{ name: 'main' }, { name: 'story', from: 'main', aspectRatio: '9:16', prompt: 'Same scene, vertical' }];

  it('plans the dependant as a draft: keys wait for the hash, the request has no hero image yet', async () => {
    const [heroEvent, storyEvent] = await planRow(variants, { title: 'Teapot' });
    const story = (storyEvent as { item: PlannedItem }).item;
    expect((heroEvent as { item: PlannedItem }).item.from).toBeUndefined();
    expect(story.from).toEqual({ variant: 'main', itemKey: 'K1#main' });
    expect(story.objectKey).toBe('K1/story-{{hash}}.{{ext}}');
    expect(story.request.contents[0]?.parts).toEqual([{ text: 'Same scene, vertical' }]);
  });

  it('completes it with the hero image: first image after the prompt, hash over it, keys and marker from that hash', async () => {
    const [, storyEvent] = await planRow(variants, { title: 'Teapot' });
    const { request, ...target } = (storyEvent as { item: PlannedItem }).item;
    const done = completeDependant(target, request, hero('a'));
    expect(done.request.contents[0]?.parts).toEqual([
      { text: 'Same scene, vertical' },
      { fileData: { mimeType: 'image/png', fileUri: `bunch-ref:${'a'.repeat(64)}` } },
    ]);
    expect(done.target.inputHash).toBe(computeInputHash('gemini-3.1-flash-image-preview', done.request));
    expect(done.target.objectKey).toBe(`K1/story-${done.target.inputHash.slice(0, 12)}.{{ext}}`);
    expect(done.target.captionKey).toBe(`K1/story-${done.target.inputHash.slice(0, 12)}.txt`);
    expect(done.target.markerKey).toBe(markerKey('K1#story', done.target.inputHash));
    expect(done.target.references).toEqual([{ ...hero('a'), source: 'variant:main', role: 'object' }]);
    expect(done.target.from).toEqual({ variant: 'main', itemKey: 'K1#main', heroSha256: 'a'.repeat(64) });
    // A different hero image is a different item identity.
    expect(completeDependant(target, request, hero('b')).target.inputHash).not.toBe(done.target.inputHash);
  });

  it('rejects the dependants of a row whose hero is rejected', async () => {
    const events = await planRow([{ name: 'main', prompt: 'Hero of {{missing}}' }, ...variants.slice(1)], { title: 'T' });
    expect(events.map((event) => (event.kind === 'rejected' ? [event.rejection.variant, event.rejection.reason] : 'item'))).toEqual([
      ['main', expect.stringContaining('missing')],
      ['story', 'it is made from variant "main", which was rejected for this row'],
    ]);
  });

  it('validates `from` in the job file', () => {
    expect(() => job([{ name: 'main' }, { name: 'story', from: 'nope' }])).toThrow(/variants\[1\]\.from.*"nope", which is not a variant/);
    expect(() => job([{ name: 'story', from: 'main' }, { name: 'main' }])).toThrow(/variants\[0\]\.from.*list "main" before/);
    expect(() => job([{ name: 'main' }, { name: 'a', from: 'main' }, { name: 'b', from: 'a' }])).toThrow(/variants\[2\]\.from.*"a" is itself made from "main"/);
    expect(() => job([{ name: 'main', from: 'main' }])).toThrow(/cannot be made from itself/);
  });
});
