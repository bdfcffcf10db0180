import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { resolveJob } from '../../../src/spec/resolve-job.js';
import { parseDuration } from '../../../src/spec/parse-duration.js';

const FILE = 'jobs/x.yaml';

function base(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'x',
    catalog: { path: 'catalogs/p.csv', key: 'sku' },
    model: 'gemini-3.1-flash-image-preview',
    prompt: 'Photo of {{title}}',
    output: { url: 'file://../out' },
    ...overrides,
  };
}

function errorOf(raw: unknown): BunchError {
  try {
    resolveJob(raw, { file: FILE });
  } catch (error) {
    expect(error).toBeInstanceOf(BunchError);
    expect((error as BunchError).code).toBe('E_JOB_FILE');
    return error as BunchError;
  }
  throw new Error('expected resolveJob to throw');
}

describe('resolveJob', () => {
  it('applies every default', () => {
    const job = resolveJob(base(), { file: FILE });
    expect(job).toEqual({
      name: 'x',
      description: undefined,
      source: { file: FILE, dir: path.resolve('jobs') },
      catalog: {
        path: path.resolve('jobs/catalogs/p.csv'),
        displayPath: path.join('jobs', 'catalogs/p.csv'),
        format: 'csv',
        key: 'sku',
        columns: {},
        delimiter: ',',
        forwardFill: [],
        forwardFillBy: undefined,
        required: [],
      },
      model: 'gemini-3.1-flash-image-preview',
      system: undefined,
      prompt: 'Photo of {{title}}',
      variants: [{ name: 'main', prompt: 'Photo of {{title}}', aspectRatio: '1:1', imageSize: '1K', sendImageSize: true, expected: { width: 1024, height: 1024 } }],
      generation: { responseModalities: ['IMAGE', 'TEXT'], temperature: undefined, seed: undefined, thinkingLevel: undefined, includeThoughts: false },
      steps: [],
      grounding: undefined,
      caption: undefined,
      debug: { thoughts: false },
      report: { gallery: true },
      protocol: 'gemini',
      lane: 'sync',
      sync: { concurrency: 8, timeoutMs: 35_000, attempts: 5, backoff: { initialMs: 2_000, maxMs: 60_000, jitter: 0.5 }, requestsPerMinute: undefined, globalConcurrency: undefined, queueWindow: 10_000 },
      batch: { deadlineMs: 86_400_000, onUnfinished: 'sync', maxRequestsPerBatch: 1000, maxConcurrentBatches: 10, pollIntervalMs: 30_000 },
      output: { kind: 'file', dir: path.resolve('out'), url: `file://${path.resolve('out')}`, key: '{{key}}/{{variant}}-{{hash}}.{{ext}}' },
      // Priced by the model table: 1120 image tokens at $60/M, input and text tokens at $0.50/M and $3/M.
      pricing: { usdPerImage: 0.0672, batchDiscount: 0.5, byVariant: { main: 0.0672 }, tokens: { input: 0.5, text: 3 } },
      budget: undefined,
      notify: undefined,
      failureThreshold: { maxFailedRatio: 0.02 },
      strict: false,
    });
    expect(Object.isFrozen(job.sync.backoff)).toBe(true);
    expect(Object.isFrozen(job.variants[0])).toBe(true);
  });

  it('resolves settings: durations, modalities, thinking, 512 given as a YAML number, variants', () => {
    const job = resolveJob(
      base({
        system: { text: 'Be brief.\n' },
        variants: [{ name: 'hero' }, { name: 'tiny', imageSize: 512, aspectRatio: '16:9', prompt: '{{title}} small' }],
        generation: { responseModalities: ['image'], imageConfig: { imageSize: '2K' }, temperature: 0.4, seed: 7, thinkingLevel: 'High' },
        sync: { timeoutMs: '40s', backoff: { initialMs: '1.5s', maxMs: '2m' } },
        batch: { deadline: '8h', pollInterval: 90_000, onUnfinished: 'fail' },
        lane: 'auto',
        strict: true,
      }),
      { file: FILE },
    );
    expect(job.system).toBe('Be brief.');
    expect(job.generation).toEqual({ responseModalities: ['IMAGE'], temperature: 0.4, seed: 7, thinkingLevel: 'HIGH', includeThoughts: false });
    expect(job.variants.map((variant) => [variant.name, variant.imageSize, variant.aspectRatio, variant.expected, variant.prompt])).toEqual([
      ['hero', '2K', '1:1', { width: 2048, height: 2048 }, 'Photo of {{title}}'],
      ['tiny', '512', '16:9', { width: 688, height: 384 }, '{{title}} small'],
    ]);
    expect(job.sync.timeoutMs).toBe(40_000);
    expect(job.sync.backoff).toEqual({ initialMs: 1_500, maxMs: 120_000, jitter: 0.5 });
    expect(job.batch).toMatchObject({ deadlineMs: 28_800_000, pollIntervalMs: 90_000, onUnfinished: 'fail' });
    expect(job.strict).toBe(true);
  });

  it('resolves grounding, thoughts, a structured caption, text-only answers and a gateway protocol', () => {
    const schema = { type: 'object', properties: { alt: { type: 'string' } }, required: ['alt'] };
    const job = resolveJob(
      base({
        grounding: { webSearch: true, imageSearch: true },
        generation: { responseModalities: ['TEXT'], includeThoughts: true },
        debug: { thoughts: true },
        caption: { schema },
      }),
      { file: FILE },
    );
    expect(job.grounding).toEqual({ webSearch: true, imageSearch: true });
    expect(job.generation).toMatchObject({ responseModalities: ['TEXT'], includeThoughts: true });
    expect(job.debug).toEqual({ thoughts: true });
    expect(job.caption).toEqual({ schema });
    expect(resolveJob(base({ protocol: 'openai' }), { file: FILE }).protocol).toBe('openai');
  });

  it('resolves edit steps in order, plain or with a prompt field', () => {
    const job = resolveJob(base({ steps: ['Add a sprig of eucalyptus\n', { prompt: 'Warmer light on {{title}}' }], output: { url: 'file://out', keepSteps: true } }), { file: FILE });
    expect(job.steps).toEqual(['Add a sprig of eucalyptus', 'Warmer light on {{title}}']);
    expect(job.output.keepSteps).toBe(true);
  });

  it('prices by a flat price per request when the job names one', () => {
    const job = resolveJob(base({ pricing: { usdPerImage: 0.058 } }), { file: FILE });
    expect(job.pricing).toEqual({ usdPerImage: 0.058, batchDiscount: 0.5 });
  });

  it('does not send imageSize to a single-size model unless the job names it', () => {
    const job = resolveJob(base({ model: 'gemini-2.5-flash-image' }), { file: FILE });
    expect(job.variants[0]).toMatchObject({ imageSize: '1K', sendImageSize: false, expected: { width: 1024, height: 1024 } });
  });

  it.each([
    [{ model: 'gemini-9' }, 'field `model`: "gemini-9" is not a known image model (gemini-3.1-flash-image-preview, gemini-3-pro-image-preview, gemini-2.5-flash-image)'],
    [{ name: undefined }, 'field `name`: is required'],
    // Present with the wrong type: before, these read "is required" too.
    [{ prompt: 42 }, 'field `prompt`: expected text, got 42'],
    [{ sync: { attempts: 1.5 } }, 'field `sync.attempts`: expected a whole number, got 1.5'],
    [{ generation: { temperature: 'hot' } }, 'field `generation.temperature`: expected a number, got "hot"'],
    [{ variants: { name: 'hero' } }, 'field `variants`: expected a list, got a mapping'],
    [{ steps: [42] }, 'field `steps[0]`: expected text or a mapping, got 42'],
    [{ name: 'Has Spaces' }, 'field `name`: must be a slug'],
    [{ prompt: 'Photo of {{title' }, 'field `prompt`: unclosed "{{" at character 10 of the template'],
    [{ prompt: 'Photo of {{}}' }, 'field `prompt`: empty placeholder "{{}}" at character 10'],
    [{ variants: [{ name: 'a', prompt: 'x {{y' }] }, 'field `variants[0].prompt`: unclosed "{{"'],
    [{ variants: [{ name: 'a' }, { name: 'a' }] }, 'field `variants[1].name`: "a" is used twice'],
    [{ generation: { imageConfig: { imageSize: '1k' } } }, 'field `generation.imageConfig.imageSize`: "1k" is not a size gemini-3.1-flash-image-preview offers (512, 1K, 2K, 4K)'],
    [{ model: 'gemini-3-pro-image-preview', variants: [{ name: 'a', imageSize: '512' }] }, 'field `variants[0].imageSize`: "512" is not a size gemini-3-pro-image-preview offers (1K, 2K, 4K)'],
    [{ model: 'gemini-2.5-flash-image', generation: { thinkingLevel: 'high' } }, 'field `generation.thinkingLevel`: gemini-2.5-flash-image does not support thinking'],
    [{ generation: { thinkingLevel: 'extreme' } }, 'field `generation.thinkingLevel`: "extreme" is not a thinking level'],
    [{ generation: { thinkingLevel: 'medium' } }, 'field `generation.thinkingLevel`: gemini-3.1-flash-image-preview accepts the thinking levels minimal, high'],
    [{ model: 'gemini-2.5-flash-image', generation: { includeThoughts: true } }, 'field `generation.includeThoughts`: gemini-2.5-flash-image does not think, so it has no thoughts to include'],
    [{ debug: { thoughts: true } }, 'field `debug.thoughts`: saves the thoughts the model returns; set generation.includeThoughts: true as well'],
    [{ grounding: {} }, 'field `grounding`: ask for webSearch, imageSearch or both (or leave grounding out)'],
    [{ model: 'gemini-2.5-flash-image', grounding: { webSearch: true } }, 'field `grounding.webSearch`: gemini-2.5-flash-image has no Google Search grounding'],
    [{ model: 'gemini-3-pro-image-preview', grounding: { webSearch: true, imageSearch: true } }, 'field `grounding.imageSearch`: gemini-3-pro-image-preview has no image search (it is offered by gemini-3.1-flash-image-preview)'],
    [{ caption: { schema: { type: 'object', properties: { alt: { type: 'strng' } } } } }, 'field `caption.schema`: is not a usable JSON Schema: schema is invalid: data/properties/alt/type must be equal to one of the allowed values'],
    [{ caption: { schema: { type: 'object' } }, generation: { responseModalities: ['IMAGE'] } }, 'field `caption.schema`: asks for a structured caption; add TEXT to generation.responseModalities'],
    [{ protocol: 'openai', generation: { imageConfig: { aspectRatio: '4:5' } } }, 'field `generation.imageConfig`: imageConfig (aspect ratio and image size) needs the Gemini-native endpoint (protocol: gemini); the openai protocol does not carry it'],
    [{ protocol: 'anthropic', variants: [{ name: 'a', imageSize: '2K' }] }, 'field `variants[0].imageSize`: imageConfig (aspect ratio and image size) needs the Gemini-native endpoint (protocol: gemini); the anthropic protocol does not carry it'],
    [{ protocol: 'openai', grounding: { webSearch: true } }, 'field `grounding`: grounding (Google Search) needs the Gemini-native endpoint (protocol: gemini); the openai protocol does not carry it'],
    [{ protocol: 'anthropic', generation: { thinkingLevel: 'high' } }, 'field `generation.thinkingLevel`: thinking needs the Gemini-native endpoint (protocol: gemini); the anthropic protocol does not carry it'],
    [{ protocol: 'openai', generation: { includeThoughts: true } }, 'field `generation.includeThoughts`: thinking needs the Gemini-native endpoint (protocol: gemini); the openai protocol does not carry it'],
    [{ protocol: 'openai', caption: { schema: { type: 'object' } } }, 'field `caption.schema`: structured captions (responseJsonSchema) needs the Gemini-native endpoint (protocol: gemini); the openai protocol does not carry it'],
    [{ protocol: 'anthropic', lane: 'batch' }, 'field `lane`: the batch lane (Gemini Batch API) needs the Gemini-native endpoint (protocol: gemini); the anthropic protocol does not carry it'],
    [{ protocol: 'openai', lane: 'auto' }, 'field `lane`: the batch lane (Gemini Batch API) needs the Gemini-native endpoint (protocol: gemini); the openai protocol does not carry it'],
    [{ protocol: 'anthropic', generation: { seed: 7 } }, 'field `generation.seed`: the anthropic protocol (Messages API) has no seed'],
    [{ protocol: 'anthropic', generation: { temperature: 1.5 } }, 'field `generation.temperature`: the anthropic protocol (Messages API) takes a temperature from 0 to 1, got 1.5'],
    [{ protocol: 'claude' }, 'field `protocol`: Invalid option'],
    [{ protocol: 'openai', steps: ['warmer light'] }, 'field `steps`: multi-turn edit steps (thought signatures) needs the Gemini-native endpoint (protocol: gemini); the openai protocol does not carry it'],
    [{ steps: ['warmer light {{oops'] }, 'field `steps[0]`: unclosed "{{"'],
    [{ steps: [{ prompt: 'x' }], generation: { responseModalities: ['TEXT'] } }, 'field `steps`: edit an image turn by turn; add IMAGE to generation.responseModalities'],
    [{ output: { url: 'file://out', keepSteps: true } }, 'field `output.keepSteps`: keeps the images of edit steps; the job has no steps'],
    [{ generation: { responseModalities: ['IMAGE', 'AUDIO'] } }, 'field `generation.responseModalities[1]`: "AUDIO" is not a modality'],
    [{ sync: { timeoutMs: 'soon' } }, 'field `sync.timeoutMs`: "soon" is not a duration'],
    [{ batch: { deadline: '8 hours' } }, 'field `batch.deadline`: "8 hours" is not a duration'],
    [{ sync: { backoff: { initialMs: '10s', maxMs: '1s' } } }, 'field `sync.backoff.maxMs`: must not be below initialMs (10000)'],
    [{ lane: 'fast' }, 'field `lane`: Invalid option'],
    [{ catalog: { path: 'p.xlsx', key: 'sku' } }, 'field `catalog.path`: cannot tell the format from ".xlsx"; set catalog.format (csv, json, jsonl)'],
    [{ catalog: { path: 'p.json', key: 'sku', delimiter: ';' } }, 'field `catalog.delimiter`: only applies to csv catalogs (this one is json)'],
    [{ catalog: { path: 'p.csv', key: 'sku', columns: { key: 'SKU' } } }, 'field `catalog.columns`: "key" and "variant" are reserved template names'],
    [{ output: { url: 'ftp://host/x' } }, 'field `output.url`: must start with s3:// or file://'],
    [{ output: { url: 's3://user:pw@bucket/x' } }, 'field `output.url`: must not carry credentials'],
    [{ output: { url: 'file://out', key: '{{key}}/{{variant}}.png' } }, 'field `output.key`: must contain {{ext}}'],
    [{ output: { url: 'file://out', key: '{{key}}-{{variant}}.{{ext}}' } }, 'field `output.key`: must contain {{key}} as a whole path segment'],
    [{ output: { url: 'file://out', key: '{{key}}/x.{{ext}}' }, variants: [{ name: 'a' }, { name: 'b' }] }, 'field `output.key`: must contain {{variant}} when the job has more than one variant'],
    [{ output: { url: 'file://out', key: '/abs/{{key}}/{{hash}}.{{ext}}' } }, 'field `output.key`: must be a relative path'],
    [{ output: { url: 'file://out', key: '/{{key}}.{{ext}}' } }, 'field `output.key`: must be a relative path'],
    [{ output: { url: 'file://out', key: '../{{key}}.{{ext}}' } }, 'field `output.key`: must not contain empty, "." or ".." path segments'],
    [{ output: { url: 'file://out', key: '_bunch/{{key}}.{{ext}}' } }, 'field `output.key`: must not start with "_bunch/" or "runs/"'],
    [{ output: { url: 'file://out', key: '{{key}}/{{hash' } }, 'field `output.key`: unclosed "{{"'],
    [{ catalog: { path: 'p.csv', key: 'sku', secretToken: 'x' } }, 'field `catalog.secretToken`: secrets never live in job files'],
    [{ pricing: { usdPerImage: -1 } }, 'field `pricing.usdPerImage`: Too small'],
  ])('rejects %j', (overrides, expected) => {
    const error = errorOf(base(overrides));
    expect(error.message.startsWith(`${FILE} field \``)).toBe(true);
    expect(error.message).toContain(`${FILE} ${expected}`);
  });

  it('rejects a non-object document', () => {
    expect(errorOf(['a']).message).toBe(`${FILE}: a job file must contain one object (name, catalog, model, prompt, output, ...)`);
  });

  it('asks for loadJobFile when system.file was not read', () => {
    expect(errorOf(base({ system: { file: 'g.md' } })).message).toBe(`${FILE} field \`system.file\`: was not read; load job files with loadJobFile`);
  });

  it('accepts the key column placeholder as the key segment', () => {
    const job = resolveJob(base({ output: { url: 's3://bucket-b', key: 'img/{{sku}}.{{ext}}' } }), { file: FILE });
    expect(job.output).toEqual({ kind: 's3', url: 's3://bucket-b', bucket: 'bucket-b', prefix: '', key: 'img/{{sku}}.{{ext}}' });
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['8h', 28_800_000],
    ['1d', 86_400_000],
    ['250ms', 250],
    ['1500', 1500],
    [35_000, 35_000],
  ] as const)('%s → %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each(['', 'h', '8 hours', '-1s', '1w'])('rejects %j', (input) => expect(parseDuration(input)).toBeUndefined());
  it('rejects negative numbers', () => expect(parseDuration(-5)).toBeUndefined());
});
