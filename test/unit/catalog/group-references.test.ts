import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachGroupReferences } from '../../../src/catalog/attach-group-references.js';
import type { CatalogEvent, NormalizedEvent } from '../../../src/catalog/catalog-event.js';
import { readCatalog } from '../../../src/catalog/read-catalog.js';
import { resolveJob } from '../../../src/spec/resolve-job.js';
import { tempFiles } from '../spec/temp-files.js';

/** A Shopify product export: variant rows, then image-only rows of the same Handle. */
const SHOPIFY = [
  'Handle,Title,Vendor,Variant SKU,Option1 Value,Image Src,Variant Image',
  'linen-shirt,Linen Shirt,Acme,LS-S,S,https://cdn.example/ls-1.jpg,https://cdn.example/ls-white.jpg',
  'linen-shirt,,,LS-M,M,https://cdn.example/ls-2.jpg,',
  'linen-shirt,,,,,https://cdn.example/ls-3.jpg,',
  'linen-shirt,,,,,https://cdn.example/ls-1.jpg,',
  'oak-chair,Oak Chair,Acme,OC-1,Default,https://cdn.example/oc-1.jpg,',
  'oak-chair,,,,,https://cdn.example/oc-2.jpg,',
  'lamp,Lamp,Acme,,,,',
].join('\n');

async function shopifyJob() {
  const dir = await tempFiles({ 'products.csv': SHOPIFY });
  return resolveJob(
    {
      name: 'shop',
      catalog: { path: 'products.csv', key: 'Variant SKU', forwardFill: ['Title', 'Vendor'], forwardFillBy: 'Handle' },
      model: 'gemini-3.1-flash-image-preview',
      prompt: '{{Title}}',
      references: { sources: ['Variant Image', { column: 'Image Src', scope: 'group' }] },
      output: { url: 'file://out' },
    },
    { file: path.join(dir, 'job.yaml') },
  );
}

describe('group references (Shopify-style exports)', () => {
  it("hands every variant row its group's photos, image-only rows included, and rejects nothing that is an image row", async () => {
    const events: CatalogEvent[] = [];
    for await (const event of readCatalog(await shopifyJob())) events.push(event);
    const compact = events.map((event) =>
      event.kind === 'row'
        ? ['row', event.row.key, event.row.fields['Title'], event.row.groupValues]
        : ['rejected', event.rejection.line, event.rejection.reason],
    );
    const shirt = { 'Image Src': ['https://cdn.example/ls-1.jpg', 'https://cdn.example/ls-2.jpg', 'https://cdn.example/ls-3.jpg'] };
    expect(compact).toEqual([
      ['row', 'LS-S', 'Linen Shirt', shirt],
      ['row', 'LS-M', 'Linen Shirt', shirt],
      // A keyless row without a photo is still a bad row; rejections are not held with their group.
      ['rejected', 8, 'no value in the key column `Variant SKU`'],
      ['row', 'OC-1', 'Oak Chair', { 'Image Src': ['https://cdn.example/oc-1.jpg', 'https://cdn.example/oc-2.jpg'] }],
    ]);
  });

  it('refuses scope: group without forwardFillBy, naming the field', async () => {
    const dir = await tempFiles({ 'c.csv': 'sku,img\n1,a.jpg\n' });
    expect(() =>
      resolveJob(
        {
          name: 'x',
          catalog: { path: 'c.csv', key: 'sku' },
          model: 'gemini-3.1-flash-image-preview',
          prompt: 'p',
          references: [{ column: 'img', scope: 'group' }],
          output: { url: 'file://out' },
        },
        { file: path.join(dir, 'job.yaml') },
      ),
    ).toThrow(/references\[0\]\.scope.*needs catalog\.forwardFillBy/);
  });

  it('releases an oversized group early instead of holding the whole catalog', async () => {
    async function* events(): AsyncGenerator<NormalizedEvent> {
      for (let i = 1; i <= 5; i++) {
        yield { kind: 'row', row: { rowNumber: i, line: i + 1, key: `k${i}`, fields: { g: 'same', img: `i${i}.jpg` } } };
      }
    }
    const out: CatalogEvent[] = [];
    for await (const event of attachGroupReferences(events(), 'g', ['img'], 2)) out.push(event);
    expect(out.map((event) => (event.kind === 'row' ? event.row.groupValues?.['img'] : undefined))).toEqual([
      ['i1.jpg', 'i2.jpg'],
      ['i1.jpg', 'i2.jpg'],
      ['i1.jpg', 'i2.jpg', 'i3.jpg', 'i4.jpg'],
      ['i1.jpg', 'i2.jpg', 'i3.jpg', 'i4.jpg'],
      ['i1.jpg', 'i2.jpg', 'i3.jpg', 'i4.jpg', 'i5.jpg'],
    ]);
  });

  it('names a reference column missing from the header as a whole-file error', async () => {
    const dir = await tempFiles({ 'c.csv': 'sku,title\n1,a\n' });
    const job = resolveJob(
      { name: 'x', catalog: { path: 'c.csv', key: 'sku' }, model: 'gemini-3.1-flash-image-preview', prompt: 'p', references: ['photo'], output: { url: 'file://out' } },
      { file: path.join(dir, 'job.yaml') },
    );
    const run = async () => {
      for await (const _ of readCatalog(job)) void _;
    };
    await expect(run()).rejects.toMatchObject({ code: 'E_CATALOG_FILE', message: expect.stringContaining('references names column "photo", which is not in the header') });
  });
});
