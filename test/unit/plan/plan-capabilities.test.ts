import { describe, expect, it } from 'vitest';
import type { CatalogEvent, CatalogRow } from '../../../src/catalog/catalog-event.js';
import { canonicalJson } from '../../../src/plan/canonical-json.js';
import { computeInputHash, sha256Hex } from '../../../src/plan/item-identity.js';
import { planItems } from '../../../src/plan/plan-items.js';
import type { PlanEvent, PlannedItem } from '../../../src/plan/planned-item.js';
import type { RowRejection } from '../../../src/catalog/catalog-event.js';
import { resolveJob } from '../../../src/spec/resolve-job.js';

function job(overrides: Record<string, unknown> = {}) {
  return resolveJob(
    {
      name: 'caps',
      catalog: { path: 'c.csv', key: 'sku' },
      model: 'gemini-3.1-flash-image-preview',
      prompt: 'Photo of {{title}}',
      output: { url: 'file://out' },
      ...overrides,
    },
    { file: 'jobs/caps.yaml' },
  );
}

function row(rowNumber: number, key: string, fields: Record<string, string>): CatalogEvent {
  const catalogRow: CatalogRow = { rowNumber, line: rowNumber + 1, key, fields: { sku: key, ...fields } };
  return { kind: 'row', row: catalogRow };
}

async function plan(events: CatalogEvent[], overrides: Record<string, unknown> = {}): Promise<PlanEvent[]> {
  async function* source() {
    yield* events;
  }
  const out: PlanEvent[] = [];
  for await (const event of planItems(job(overrides), source())) out.push(event);
  return out;
}

function item(event: PlanEvent | undefined): PlannedItem {
  if (event?.kind !== 'item') throw new Error(`expected an item, got ${JSON.stringify(event)}`);
  return event.item;
}

function rejected(event: PlanEvent | undefined): RowRejection {
  if (event?.kind !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(event)}`);
  return event.rejection;
}

describe('planning the model capabilities', () => {
  it('sends grounding as googleSearch tools, image search with its search types', async () => {
    expect(item((await plan([row(1, 'A', { title: 'Lamp' })], { grounding: { webSearch: true } }))[0]).request.tools).toEqual([{ googleSearch: {} }]);
    expect(item((await plan([row(1, 'A', { title: 'Lamp' })], { grounding: { webSearch: true, imageSearch: true } }))[0]).request.tools).toEqual([
      { googleSearch: { searchTypes: { webSearch: {}, imageSearch: {} } } },
    ]);
  });

  it('asks for thoughts in thinkingConfig and for a structured caption as responseJsonSchema, with a .json caption key', async () => {
    const schema = { type: 'object', properties: { alt: { type: 'string' } }, required: ['alt'] };
    const planned = item((await plan([row(1, 'A', { title: 'Lamp' })], { generation: { thinkingLevel: 'high', includeThoughts: true }, caption: { schema } }))[0]);
    expect(planned.request.generationConfig).toEqual({
      responseModalities: ['IMAGE', 'TEXT'],
      imageConfig: { aspectRatio: '1:1', imageSize: '1K' },
      thinkingConfig: { thinkingLevel: 'HIGH', includeThoughts: true },
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
    });
    expect(planned.captionKey).toBe(`A/main-${planned.inputHash.slice(0, 12)}.json`);
  });

  it('sends no imageConfig for text-only answers', async () => {
    const planned = item((await plan([row(1, 'A', { title: 'Lamp' })], { generation: { responseModalities: ['TEXT'] } }))[0]);
    expect(planned.request.generationConfig).toEqual({ responseModalities: ['TEXT'] });
  });

  it('renders edit steps per row and puts them in the inputHash (single-turn hashes unchanged)', async () => {
    const [withSteps] = await plan([row(1, 'A', { title: 'Lamp' })], { steps: ['Add a shade to the {{title}}', 'Warmer light'] });
    const planned = item(withSteps);
    expect(planned.steps).toEqual(['Add a shade to the Lamp', 'Warmer light']);
    expect(planned.inputHash).toBe(sha256Hex(canonicalJson({ model: planned.model, request: planned.request, steps: planned.steps })));
    const single = item((await plan([row(1, 'A', { title: 'Lamp' })]))[0]);
    expect(single.inputHash).toBe(computeInputHash(single.model, single.request));
    expect(single.inputHash).toBe(sha256Hex(canonicalJson({ model: single.model, request: single.request })));
    expect(single.request).toEqual(planned.request);
    expect(single.inputHash).not.toBe(planned.inputHash);
  });

  it('rejects a row whose request would exceed the input limit, naming the row and the largest part', async () => {
    // 2.5 Flash Image takes 32,768 input tokens: a 30,000-token brand guide leaves room for short
    // rows; a row with 9,000 bytes of description (≈ 3,000 tokens) no longer fits.
    const events = await plan([row(1, 'A', { title: 'Lamp', more: 'oak' }), row(2, 'B', { title: 'Lamp', more: 'x'.repeat(9_000) })], {
      model: 'gemini-2.5-flash-image',
      system: 'y'.repeat(90_000),
      prompt: 'Photo of {{title}} {{more}}',
    });
    expect(item(events[0]).rowKey).toBe('A');
    expect(rejected(events[1])).toEqual({
      file: 'jobs/c.csv',
      rowNumber: 2,
      line: 3,
      key: 'B',
      variant: 'main',
      code: 'E_CONTEXT_LIMIT',
      reason: "the request needs about 33,005 input tokens, over gemini-2.5-flash-image's limit of 32,768; the largest part is the system instruction at about 30,000 tokens",
    });
  });

  it('counts the images a multi-turn edit sends back and the system instruction', async () => {
    const system = 'y'.repeat(3 * 130_000);
    const events = await plan([row(1, 'A', { title: 'Lamp' })], { system, steps: ['a', 'b'] });
    expect(rejected(events[0]).reason).toBe(
      "the request needs about 132,247 input tokens, over gemini-3.1-flash-image-preview's limit of 131,072; the largest part is the system instruction at about 130,000 tokens",
    );
  });
});
