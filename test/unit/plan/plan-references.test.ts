import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CatalogEvent } from '../../../src/catalog/catalog-event.js';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { planItems } from '../../../src/plan/plan-items.js';
import type { PlanEvent, PlannedItem } from '../../../src/plan/planned-item.js';
import type { ReferenceLocation } from '../../../src/references/reference-location.js';
import type { ReferenceOutcome } from '../../../src/references/reference-resolver.js';
import { resolveJob } from '../../../src/spec/resolve-job.js';

const DIR = path.resolve('/data/shop');
const sha = (digit: string) => digit.repeat(64);

/**
 * The resolver is a port (ReferenceResolver fetches for real in the integration tests); here a
 * table stands in so the planning rules can be checked exactly.
 */
function resolverOf(table: Record<string, string | BunchError>) {
  const asked: string[] = [];
  return {
    asked,
    resolve(location: ReferenceLocation): Promise<ReferenceOutcome> {
      asked.push(location.identity);
      const entry = table[location.identity];
      if (entry === undefined) throw new Error(`unexpected location ${location.identity}`);
      if (entry instanceof BunchError) return Promise.resolve({ ok: false, error: entry });
      return Promise.resolve({ ok: true, reference: { sha256: entry, mimeType: 'image/jpeg', bytes: 1000, width: 800, height: 600 } });
    },
  };
}

function job(references: unknown, model = 'gemini-3.1-flash-image-preview') {
  return resolveJob(
    {
      name: 'refs',
      catalog: { path: 'c.csv', key: 'sku' },
      model,
      prompt: 'Photo of {{title}}',
      references,
      output: { url: 'file://out' },
    },
    { file: path.join(DIR, 'job.yaml') },
  );
}

async function plan(references: unknown, rows: Record<string, string>[], table: Record<string, string | BunchError>, model?: string) {
  const resolver = resolverOf(table);
  async function* source(): AsyncGenerator<CatalogEvent> {
    for (const [i, fields] of rows.entries()) {
      yield { kind: 'row', row: { rowNumber: i + 1, line: i + 2, key: fields['sku'] as string, fields } };
    }
  }
  const events: PlanEvent[] = [];
  for await (const event of planItems(job(references, model), source(), { references: resolver })) events.push(event);
  return { events, resolver };
}

const items = (events: PlanEvent[]) => events.filter((e): e is { kind: 'item'; item: PlannedItem } => e.kind === 'item').map((e) => e.item);

describe('planning with reference images', () => {
  it('puts placeholders after the prompt, lists the references, and numbers items in catalog order', async () => {
    const { events } = await plan(['photo'], [{ sku: 'A', title: 'Shirt', photo: 'https://cdn.example/a.jpg?sig=s3cret|photos/a2.png' }], {
      'https://cdn.example/a.jpg?sig=s3cret': sha('1'),
      [`file:${path.join(DIR, 'photos/a2.png')}`]: sha('2'),
    });
    const [item] = items(events);
    expect(item?.index).toBe(0);
    expect(item?.request.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'Photo of Shirt' },
          { fileData: { mimeType: 'image/jpeg', fileUri: `bunch-ref:${sha('1')}` } },
          { fileData: { mimeType: 'image/jpeg', fileUri: `bunch-ref:${sha('2')}` } },
        ],
      },
    ]);
    expect(item?.references).toEqual([
      { sha256: sha('1'), mimeType: 'image/jpeg', bytes: 1000, width: 800, height: 600, source: 'https://cdn.example/a.jpg', role: 'object' },
      { sha256: sha('2'), mimeType: 'image/jpeg', bytes: 1000, width: 800, height: 600, source: 'photos/a2.png', role: 'object' },
    ]);
    expect(JSON.stringify(events)).not.toContain('s3cret');
  });

  it('hashes the bytes, not the URL: a moved photo keeps the hash, a new photo at the same URL changes it', async () => {
    const rows = [{ sku: 'A', title: 'Shirt', photo: 'https://cdn.example/a.jpg' }];
    const first = items((await plan(['photo'], rows, { 'https://cdn.example/a.jpg': sha('1') })).events)[0];
    const moved = items((await plan(['photo'], [{ ...rows[0], photo: 'https://cdn.example/a.jpg?v=2' }], { 'https://cdn.example/a.jpg?v=2': sha('1') })).events)[0];
    const changed = items((await plan(['photo'], rows, { 'https://cdn.example/a.jpg': sha('9') })).events)[0];
    const textOnly = items((await plan(['photo'], [{ sku: 'A', title: 'Shirt', photo: '' }], {})).events)[0];
    expect(moved?.inputHash).toBe(first?.inputHash);
    expect(changed?.inputHash).not.toBe(first?.inputHash);
    expect(textOnly?.inputHash).not.toBe(first?.inputHash);
    expect(textOnly?.references).toBeUndefined();
  });

  it('asks once per location and sends one part per distinct image', async () => {
    const { events, resolver } = await plan(
      [{ column: 'front' }, { column: 'back', role: 'style' }],
      [{ sku: 'A', title: 'T', front: 'https://x.example/1.jpg', back: 'https://x.example/1.jpg | https://x.example/copy.jpg' }],
      { 'https://x.example/1.jpg': sha('1'), 'https://x.example/copy.jpg': sha('1') },
    );
    expect(resolver.asked).toEqual(['https://x.example/1.jpg', 'https://x.example/copy.jpg']);
    expect(items(events)[0]?.references?.map((r) => [r.sha256, r.role])).toEqual([[sha('1'), 'object']]);
  });

  it('rejects the whole row with E_REFERENCE when one image is unusable; other rows go on', async () => {
    const refused = new BunchError('E_REFERENCE', 'reference http://10.0.0.5/a.jpg resolves to 10.0.0.5 (private); refused by the address guard', { reason: 'blocked-address' });
    const { events } = await plan(
      ['photo'],
      [
        { sku: 'A', title: 'T', photo: 'http://10.0.0.5/a.jpg' },
        { sku: 'B', title: 'U', photo: 'https://x.example/b.jpg' },
        { sku: 'C', title: 'V', photo: 'ftp://x.example/c.jpg' },
      ],
      { 'http://10.0.0.5/a.jpg': refused, 'https://x.example/b.jpg': sha('2') },
    );
    expect(events.map((e) => (e.kind === 'item' ? ['item', e.item.rowKey, e.item.index] : ['rejected', e.rejection.key, e.rejection.code, e.rejection.field, e.rejection.reason]))).toEqual([
      ['rejected', 'A', 'E_REFERENCE', 'photo', refused.message],
      ['item', 'B', 0],
      ['rejected', 'C', 'E_REFERENCE', 'photo', 'reference "ftp://x.example/c.jpg": ftp: locations are not supported (https://, s3://, file:// or a path relative to the catalog)'],
    ]);
  });

  it("checks the model's limits: own images over the limit reject the row, group photos only fill the room left", async () => {
    const many = Array.from({ length: 11 }, (_, i) => `https://x.example/${i}.jpg`);
    const table = Object.fromEntries(many.map((url, i) => [url, i.toString(16).padStart(64, '0')]));
    const { events } = await plan(['photo'], [{ sku: 'A', title: 'T', photo: many.join('|') }], table);
    expect(events).toEqual([
      {
        kind: 'rejected',
        rejection: expect.objectContaining({
          code: 'E_REFERENCE',
          field: 'photo',
          reason: 'the row names 11 reference image(s) (11 object), over what gemini-3.1-flash-image-preview takes in one request (14 in all, 10 object/style, 4 character)',
        }),
      },
    ]);

    const resolver = resolverOf(table);
    const groupJob = resolveJob(
      {
        name: 'g',
        catalog: { path: 'c.csv', key: 'sku', forwardFillBy: 'handle' },
        model: 'gemini-3.1-flash-image-preview',
        prompt: 'p',
        references: ['own', { column: 'gallery', scope: 'group' }],
        output: { url: 'file://out' },
      },
      { file: path.join(DIR, 'job.yaml') },
    );
    async function* source(): AsyncGenerator<CatalogEvent> {
      yield { kind: 'row', row: { rowNumber: 1, line: 2, key: 'A', fields: { sku: 'A', own: many[0] as string, handle: 'h' }, groupValues: { gallery: many.slice(1) } } };
    }
    const out: PlanEvent[] = [];
    for await (const event of planItems(groupJob, source(), { references: resolver })) out.push(event);
    expect(items(out)[0]?.references?.map((r) => r.source)).toEqual(many.slice(0, 10));
  });

  it('counts character images against their own limit', async () => {
    const urls = Array.from({ length: 5 }, (_, i) => `https://x.example/c${i}.jpg`);
    const table = Object.fromEntries(urls.map((url, i) => [url, (i + 1).toString(16).padStart(64, 'a')]));
    const { events } = await plan([{ column: 'model', role: 'character' }], [{ sku: 'A', title: 'T', model: urls.join('|') }], table);
    expect(events[0]).toMatchObject({ kind: 'rejected', rejection: { code: 'E_REFERENCE', reason: expect.stringContaining('(5 character)') } });
  });

  it('fills reference templates from the row and rejects rows that cannot fill them', async () => {
    const { events } = await plan(
      [{ template: 's3://photo-bucket/{{sku}}/front.jpg' }],
      [{ sku: 'A', title: 'T' }],
      { 's3://photo-bucket/A/front.jpg': sha('3') },
    );
    expect(items(events)[0]?.references?.[0]).toMatchObject({ source: 's3://photo-bucket/A/front.jpg', sha256: sha('3') });
  });

  it('keeps a place for the hero image when the job has variants made from another', async () => {
    const urls = Array.from({ length: 10 }, (_, i) => `https://x.example/h${i}.jpg`);
    const table = Object.fromEntries(urls.map((url, i) => [url, (i + 1).toString(16).padStart(64, 'c')]));
    const resolver = resolverOf(table);
    const heroJob = resolveJob(
      {
        name: 'h',
        catalog: { path: 'c.csv', key: 'sku' },
        model: 'gemini-3.1-flash-image-preview',
        prompt: 'p',
        variants: [{ name: 'main' }, { name: 'story', from: 'main', aspectRatio: '9:16' }],
        references: ['photo'],
        output: { url: 'file://out' },
      },
      { file: path.join(DIR, 'job.yaml') },
    );
    async function* source(): AsyncGenerator<CatalogEvent> {
      yield { kind: 'row', row: { rowNumber: 1, line: 2, key: 'A', fields: { sku: 'A', photo: urls.join('|') } } };
    }
    const out: PlanEvent[] = [];
    for await (const event of planItems(heroJob, source(), { references: resolver })) out.push(event);
    expect(out).toEqual([
      {
        kind: 'rejected',
        rejection: expect.objectContaining({
          code: 'E_REFERENCE',
          reason:
            'the row names 10 reference image(s) (10 object), over what gemini-3.1-flash-image-preview takes in one request ' +
            '(13 in all, 9 object/style, 4 character, one place kept for the image a `from:` variant is made from)',
        }),
      },
    ]);
  });
});
