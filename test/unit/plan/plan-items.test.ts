import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CatalogEvent, CatalogRow } from '../../../src/catalog/catalog-event.js';
import { canonicalJson } from '../../../src/plan/canonical-json.js';
import type { GenerateContentRequest } from '../../../src/gemini/generate-content-request.js';
import { computeInputHash } from '../../../src/plan/item-identity.js';
import { planItems } from '../../../src/plan/plan-items.js';
import type { PlanEvent } from '../../../src/plan/planned-item.js';
import { resolveJob } from '../../../src/spec/resolve-job.js';

function job(overrides: Record<string, unknown> = {}) {
  return resolveJob(
    {
      name: 'p',
      catalog: { path: 'c.csv', key: 'sku' },
      model: 'gemini-3.1-flash-image-preview',
      system: 'House style.',
      prompt: 'Photo of {{title}} ({{key}}, {{variant}})',
      variants: [{ name: 'hero' }, { name: 'story', aspectRatio: '9:16', imageSize: '2K', prompt: 'Story of {{title}}' }],
      generation: { temperature: 0.3, seed: 42, thinkingLevel: 'high' },
      output: { url: 's3://bucket-c/x', key: 'img/{{key}}/{{variant}}-{{hash}}.{{ext}}' },
      ...overrides,
    },
    { file: 'jobs/p.yaml' },
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

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('planItems', () => {
  it('plans a known row exactly: request JSON, hash, keys', async () => {
    const [hero, story] = await plan([row(1, 'CH/1', { title: 'Oak Chair' })]);
    const heroRequest: GenerateContentRequest = {
      contents: [{ role: 'user', parts: [{ text: 'Photo of Oak Chair (CH/1, hero)' }] }],
      systemInstruction: { parts: [{ text: 'House style.' }] },
      generationConfig: {
        responseModalities: ['IMAGE', 'TEXT'],
        imageConfig: { aspectRatio: '1:1', imageSize: '1K' },
        temperature: 0.3,
        seed: 42,
        thinkingConfig: { thinkingLevel: 'HIGH' },
      },
    };
    const heroHash = sha256(canonicalJson({ model: 'gemini-3.1-flash-image-preview', request: heroRequest }));
    expect(hero).toEqual({
      kind: 'item',
      item: {
        index: 0,
        itemKey: 'CH/1#hero',
        rowKey: 'CH/1',
        variant: 'hero',
        rowNumber: 1,
        model: 'gemini-3.1-flash-image-preview',
        request: heroRequest,
        inputHash: heroHash,
        prompt: 'Photo of Oak Chair (CH/1, hero)',
        expected: { width: 1024, height: 1024 },
        objectKey: `img/CH%2F1/hero-${heroHash.slice(0, 12)}.{{ext}}`,
        captionKey: `img/CH%2F1/hero-${heroHash.slice(0, 12)}.txt`,
        markerKey: `_bunch/results/${heroHash.slice(0, 2)}/${heroHash}-${sha256('CH/1#hero').slice(0, 16)}.json`,
      },
    });
    // The exact wire JSON, member order included.
    expect(JSON.stringify(hero?.kind === 'item' && hero.item.request)).toBe(
      '{"contents":[{"role":"user","parts":[{"text":"Photo of Oak Chair (CH/1, hero)"}]}],"generationConfig":{"responseModalities":["IMAGE","TEXT"],"imageConfig":{"aspectRatio":"1:1","imageSize":"1K"},"temperature":0.3,"seed":42,"thinkingConfig":{"thinkingLevel":"HIGH"}},"systemInstruction":{"parts":[{"text":"House style."}]}}',
    );
    expect(story?.kind === 'item' && story.item).toMatchObject({
      index: 1,
      itemKey: 'CH/1#story',
      expected: { width: 1536, height: 2752 },
      request: { contents: [{ role: 'user', parts: [{ text: 'Story of Oak Chair' }] }], generationConfig: { imageConfig: { aspectRatio: '9:16', imageSize: '2K' } } },
    });
  });

  it('rejects one variant whose template needs a missing field, plans the others, numbers items densely', async () => {
    const events = await plan(
      [row(1, 'A', { title: 'Chair' }), row(2, 'B', { title: 'Desk', color: '' }), { kind: 'rejected', rejection: { file: 'c.csv', rowNumber: 3, line: 4, code: 'E_CATALOG_ROW', reason: 'x' } }, row(4, 'C', { title: 'Lamp', color: 'red' })],
      { variants: [{ name: 'hero' }, { name: 'color', prompt: '{{title}} in {{color}}' }] },
    );
    expect(events.map((event) => (event.kind === 'item' ? ['item', event.item.index, event.item.itemKey] : ['rejected', event.rejection.rowNumber, event.rejection.variant, event.rejection.field, event.rejection.reason]))).toEqual([
      ['item', 0, 'A#hero'],
      ['rejected', 1, 'color', 'color', 'prompt: field `color` is missing but the template uses {{color}}'],
      ['item', 1, 'B#hero'],
      ['rejected', 2, 'color', 'color', 'prompt: field `color` is empty but the template uses {{color}}'],
      ['rejected', 3, undefined, undefined, 'x'],
      ['item', 2, 'C#hero'],
      ['item', 3, 'C#color'],
    ]);
    const rejection = events[1]?.kind === 'rejected' ? events[1].rejection : undefined;
    expect(rejection).toEqual({ file: 'jobs/c.csv', rowNumber: 1, line: 2, key: 'A', field: 'color', variant: 'color', code: 'E_CATALOG_ROW', reason: 'prompt: field `color` is missing but the template uses {{color}}' });
  });

  it('encodes catalog values in keys and rejects rows whose key template field is missing', async () => {
    const events = await plan([row(1, '..', { title: 'T', brand: 'a/b' }), row(2, 'K', { title: 'T' })], {
      variants: undefined,
      output: { url: 'file://out', key: '{{brand}}/{{key}}.{{ext}}' },
    });
    expect(events[0]?.kind === 'item' && events[0].item.objectKey).toBe('a%2Fb/%2E%2E.{{ext}}');
    expect(events[1]?.kind === 'rejected' && events[1].rejection).toMatchObject({ field: 'brand', reason: 'object key: field `brand` is missing but the template uses {{brand}}' });
  });

  it('keeps catalog values off the reserved and hidden prefixes by encoding them', async () => {
    const events = await plan([row(1, 'results', { title: 'T', top: '_bunch' }), row(2, '.bunch-meta', { title: 'T', top: 'x' })], {
      variants: undefined,
      output: { url: 'file://out', key: '{{top}}/{{key}}.{{ext}}' },
    });
    expect(events.map((e) => (e.kind === 'item' ? e.item.objectKey : e.rejection.reason))).toEqual([
      '%5Fbunch/results.{{ext}}',
      'x/%2Ebunch-meta.{{ext}}',
    ]);
  });

  it("rejects a row whose values put its output under runs/, beside the runs' manifests", async () => {
    const events = await plan([row(1, 'runs', { title: 'T' }), row(2, 'runsX', { title: 'T' })], {
      variants: undefined,
      output: { url: 'file://out', key: '{{key}}/{{variant}}.{{ext}}' },
    });
    // Before: `runs/main.{{ext}}`, planned and written among the run records.
    expect(events.map((e) => (e.kind === 'item' ? e.item.objectKey : e.rejection.reason))).toEqual([
      'object key "runs/main.{{ext}}" falls under "runs/", where bunch keeps its runs\' manifests and summaries',
      'runsX/main.{{ext}}',
    ]);
  });

  it('carries the prompt for the manifest, cut to 300 characters; the request has it whole', async () => {
    const title = 'Oak Chair '.repeat(40).trim();
    const [hero] = await plan([row(1, 'CH/1', { title })]);
    if (hero?.kind !== 'item') throw new Error('expected an item');
    const whole = `Photo of ${title} (CH/1, hero)`;
    expect(hero.item.prompt).toBe(`${whole.slice(0, 300)}…`);
    expect(hero.item.request.contents[0]?.parts[0]).toEqual({ text: whole });
  });

  it('rejects a row whose prompt would be over 64 KiB, naming the field that made it so', async () => {
    const events = await plan([row(1, 'big', { title: 'x'.repeat(70_000) })], { variants: undefined });
    expect(events[0]?.kind === 'rejected' && events[0].rejection).toMatchObject({ code: 'E_CATALOG_ROW', field: 'title' });
    expect(events[0]?.kind === 'rejected' && events[0].rejection.reason).toMatch(/^prompt is \d+ bytes, over the 65536-byte limit/);
  });

  it('rejects a row whose key segment could not be stored (over 255 bytes)', async () => {
    const events = await plan([row(1, 'S'.repeat(300), { title: 'T' })], { variants: undefined });
    expect(events[0]?.kind === 'rejected' && events[0].rejection).toMatchObject({ code: 'E_CATALOG_ROW' });
    expect(events[0]?.kind === 'rejected' && events[0].rejection.reason).toContain('longer than 255 bytes');
  });

  it('with keepSteps, rejects a row whose kept step image could not be stored, before any turn is paid for', async () => {
    const stepsJob = { variants: undefined, steps: ['Warmer light'], output: { url: 's3://bucket-c/x', key: '{{key}}.{{ext}}', keepSteps: true } };
    // `<key>.png` fits in 255 bytes; `<key>~step1.jpeg` does not.
    const key = 'S'.repeat(245);
    const [kept] = await plan([row(1, key, { title: 'T' })], stepsJob);
    expect(kept?.kind === 'rejected' && kept.rejection).toMatchObject({ code: 'E_CATALOG_ROW', key });
    expect(kept?.kind === 'rejected' && kept.rejection.reason).toBe(`object key: unsafe object key "${key}~step1.jpeg": has a path segment longer than 255 bytes`);
    const [notKept] = await plan([row(1, key, { title: 'T' })], { ...stepsJob, output: { ...stepsJob.output, keepSteps: false } });
    expect(notKept?.kind).toBe('item');
  });
});

describe('inputHash', () => {
  const request: GenerateContentRequest = {
    contents: [{ role: 'user', parts: [{ text: 'p' }] }],
    generationConfig: { responseModalities: ['IMAGE', 'TEXT'], imageConfig: { aspectRatio: '1:1', imageSize: '1K' } },
  };

  it('is stable and independent of key order', () => {
    const reordered = JSON.parse('{"generationConfig":{"imageConfig":{"imageSize":"1K","aspectRatio":"1:1"},"responseModalities":["IMAGE","TEXT"]},"contents":[{"parts":[{"text":"p"}],"role":"user"}]}') as GenerateContentRequest;
    const hash = computeInputHash('m', request);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(computeInputHash('m', structuredClone(request))).toBe(hash);
    expect(computeInputHash('m', reordered)).toBe(hash);
  });

  it('changes with the prompt, the model, the system text and every config value', () => {
    const hash = computeInputHash('m', request);
    const variants: [string, GenerateContentRequest][] = [
      ['m2', request],
      ['m', { ...request, contents: [{ role: 'user', parts: [{ text: 'p ' }] }] }],
      ['m', { ...request, systemInstruction: { parts: [{ text: 's' }] } }],
      ['m', { ...request, generationConfig: { ...request.generationConfig, responseModalities: ['IMAGE'] } }],
      ['m', { ...request, generationConfig: { ...request.generationConfig, imageConfig: { aspectRatio: '1:1', imageSize: '2K' } } }],
      ['m', { ...request, generationConfig: { ...request.generationConfig, imageConfig: { aspectRatio: '4:5', imageSize: '1K' } } }],
      ['m', { ...request, generationConfig: { ...request.generationConfig, temperature: 1 } }],
      ['m', { ...request, generationConfig: { ...request.generationConfig, seed: 1 } }],
      ['m', { ...request, generationConfig: { ...request.generationConfig, thinkingConfig: { thinkingLevel: 'HIGH' } } }],
    ];
    const hashes = new Set(variants.map(([model, changed]) => computeInputHash(model, changed)));
    expect(hashes.size).toBe(variants.length);
    expect(hashes.has(hash)).toBe(false);
  });

  it('is the same for the same job and row planned twice, and changes when the job prompt changes', async () => {
    const first = await plan([row(1, 'A', { title: 'Chair' })]);
    const second = await plan([row(1, 'A', { title: 'Chair' })]);
    const changed = await plan([row(1, 'A', { title: 'Chair' })], { prompt: 'Photo of {{title}} ({{key}}, {{variant}})!' });
    const hashOf = (events: PlanEvent[]) => (events[0]?.kind === 'item' ? events[0].item.inputHash : '');
    expect(hashOf(second)).toBe(hashOf(first));
    expect(hashOf(changed)).not.toBe(hashOf(first));
  });
});
