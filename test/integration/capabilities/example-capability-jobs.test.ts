import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargedUsd } from '../../../src/gemini/run-pricing.js';
import type { ManifestItemLine, ManifestLine } from '../../../src/manifest/manifest-line.js';
import { startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { copyExampleJobs, type ExampleJobs } from '../../helpers/example-jobs.js';

const items = (manifest: ManifestLine[]) => manifest.filter((line): line is ManifestItemLine => line.status !== 'rejected');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * The example jobs of the model's capabilities (grounding and thoughts, text-only structured
 * captions, edit steps), run end to end from a copy of jobs/ against the emulator.
 */
describe('capability example jobs, end to end', () => {
  let stack: BunchStack;
  let examples: ExampleJobs;
  beforeAll(async () => {
    stack = await startBunchStack({ concurrency: 8 });
    await stack.startWorkers();
    examples = await copyExampleJobs(stack.dir.path);
  });
  afterAll(async () => stack?.stop());

  const job = (name: string, replace: [string, string][] = []) => examples.job(name, replace);

  it('grounded-hero: searches and sources in the manifest, the metadata stored, thoughts saved but never the output, thinking billed', async () => {
    const run = await stack.start(await job('grounded-hero'));
    const meta = await stack.waitForRun(run.runId);
    expect(meta.counts).toEqual({ succeeded: 24, failed: 0, skipped: 0, cancelled: 0 });
    const store = stack.storeFor(run.outputUrl);
    const manifest = items(await stack.readManifest(store, run.runId));
    for (const line of manifest) {
      expect(line.grounding?.queries.length).toBeGreaterThan(0);
      expect(line.grounding?.imageQueries?.length).toBeGreaterThan(0);
      expect(line.grounding?.sources[0]?.uri).toMatch(/^https:\/\//);
      expect(line.grounding?.imageSources?.[0]?.imageUri).toMatch(/^https:\/\//);
      const stored = JSON.parse((await store.get(line.grounding!.key!))!.toString('utf8')) as Record<string, unknown>;
      expect(stored.webSearchQueries).toEqual(line.grounding?.queries);
      // Thoughts: counted, saved under the item's folder, and the output is the final image.
      expect(line.thoughts?.texts).toBeGreaterThan(0);
      expect(line.thoughts?.images).toBe(1);
      const thoughtImage = line.thoughts?.keys?.find((key) => key.endsWith('thought-1.png'));
      expect(thoughtImage).toMatch(/^_bunch\/items\//);
      const output = (await store.get(line.image!.key))!;
      expect(sha256(output)).toBe(line.image?.sha256);
      expect(sha256((await store.get(thoughtImage!))!)).not.toBe(line.image?.sha256);
      // Thinking tokens are billed: the cost is the table's image price plus input and thinking tokens.
      expect(line.usage?.thoughtsTokens).toBeGreaterThan(0);
      const withoutThinking = chargedUsd(meta.config.pricing, 'sync', line.variant, { ...line.usage!, thoughtsTokens: 0 }, 1);
      expect(line.costUsd).toBeGreaterThan(withoutThinking);
    }
  });

  it('alt-text: a text-only job over the photos stores schema-checked JSON as the output and in the manifest', async () => {
    const run = await stack.start(await job('alt-text'));
    const meta = await stack.waitForRun(run.runId);
    expect(meta.counts).toEqual({ succeeded: 7, failed: 0, skipped: 0, cancelled: 0 });
    const schema = JSON.parse(await readFile(path.join(examples.dir, 'schemas/alt-text.schema.json'), 'utf8')) as object;
    const validate = new Ajv2020({ strict: false }).compile(schema);
    const store = stack.storeFor(run.outputUrl);
    const manifest = items(await stack.readManifest(store, run.runId));
    for (const line of manifest) {
      expect(line.image).toBeUndefined();
      expect(line.references?.length).toBeGreaterThan(0);
      expect(validate(line.caption?.json)).toBe(true);
      expect(line.caption?.key).toMatch(/\.json$/);
      expect(JSON.parse((await store.get(line.caption!.key))!.toString('utf8'))).toEqual(line.caption?.json);
    }
  });

  it('alt-text: an answer that does not match the schema is E_BAD_CAPTION after two paid answers', async () => {
    const run = await stack.start(await job('alt-text', [['Write alt text', 'Write alt text [[emu:bad-json]]']]));
    const meta = await stack.waitForRun(run.runId);
    expect(meta.counts).toEqual({ succeeded: 0, failed: 7, skipped: 0, cancelled: 0 });
    const manifest = items(await stack.readManifest(stack.storeFor(run.outputUrl), run.runId));
    for (const line of manifest) {
      expect(line.errorCode).toBe('E_BAD_CAPTION');
      expect(line.errorMessage).toMatch(/^the caption does not match caption\.schema at /);
      expect(line.attempts).toBe(2);
    }
  });

  it('edit-steps: every turn carries the earlier answers with their thought signatures (the emulator checks)', async () => {
    const run = await stack.start(await job('edit-steps'));
    const meta = await stack.waitForRun(run.runId);
    expect(meta.counts).toEqual({ succeeded: 24, failed: 0, skipped: 0, cancelled: 0 });
    const manifest = items(await stack.readManifest(stack.storeFor(run.outputUrl), run.runId));
    for (const line of manifest) expect(line.steps?.map((step) => step.turn)).toEqual([1, 2, 3]);
    // The emulator refuses a turn whose earlier answers lack their signatures; these were all
    // answered, and the log shows what they carried: the whole history, each answer signed.
    const later = stack.emulator.requestLog.list({ route: 'generateContent', status: 200 }).filter((entry) => (entry.turns ?? 1) > 1);
    expect(later.filter((entry) => entry.turns === 3 && entry.echoedSignatures === 2)).toHaveLength(24);
    expect(later.filter((entry) => entry.turns === 5 && entry.echoedSignatures === 4)).toHaveLength(24);
    expect(stack.emulator.requestLog.count({ route: 'generateContent', status: 400 })).toBe(0);
  });
});
