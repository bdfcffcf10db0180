import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { loadJobFile } from '../../../src/spec/load-job-file.js';
import { tempFiles } from './temp-files.js';

const BASE = `name: shoes
catalog:
  path: products.csv
  key: sku
model: gemini-3.1-flash-image-preview
prompt: "Photo of {{title}}"
output:
  url: file://out
`;

async function loadError(file: string): Promise<BunchError> {
  const error = await loadJobFile(file).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BunchError);
  return error as BunchError;
}

describe('loadJobFile', () => {
  it('resolves every job file shipped in jobs/', async () => {
    const dir = path.resolve('jobs');
    const files = (await readdir(dir)).filter((name) => /\.(ya?ml|json)$/.test(name));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const name of files) {
      const job = await loadJobFile(path.join('jobs', name));
      expect(job.name).toBe(name.replace(/\.(ya?ml|json)$/, ''));
      expect(job.system).toContain('House style');
      expect(Object.isFrozen(job)).toBe(true);
    }
  });

  it('resolves the demo job: defaults, paths relative to the job file, system file text', async () => {
    const job = await loadJobFile('jobs/demo.yaml');
    expect(job.catalog.path).toBe(path.resolve('jobs/catalogs/demo-products.csv'));
    expect(job.catalog.displayPath).toBe(path.join('jobs', 'catalogs/demo-products.csv'));
    expect(job.output).toEqual({
      kind: 'file',
      dir: path.resolve('out/demo'),
      url: `file://${path.resolve('out/demo')}`,
      key: '{{key}}/{{variant}}-{{hash}}.{{ext}}',
    });
    expect(job.lane).toBe('sync');
    expect(job.variants).toEqual([
      { name: 'main', prompt: expect.stringMatching(/^Studio product photo of the \{\{title\}\}/), aspectRatio: '1:1', imageSize: '1K', sendImageSize: true, expected: { width: 1024, height: 1024 } },
    ]);
    expect(job.prompt.endsWith('.')).toBe(true);
  });

  it('reads JSON job files', async () => {
    const dir = await tempFiles({
      'job.json': JSON.stringify({
        name: 'json-job',
        catalog: { path: 'c.jsonl', key: 'id' },
        model: 'models/gemini-3-pro-image-preview',
        prompt: '{{title}}',
        output: { url: 's3://bucket-a/some/prefix/' },
      }),
    });
    const job = await loadJobFile(path.join(dir, 'job.json'));
    expect(job.model).toBe('gemini-3-pro-image-preview');
    expect(job.catalog.format).toBe('jsonl');
    expect(job.output).toEqual({ kind: 's3', url: 's3://bucket-a/some/prefix', bucket: 'bucket-a', prefix: 'some/prefix', key: '{{key}}/{{variant}}-{{hash}}.{{ext}}' });
  });

  it('names file, line and field for a size the model does not offer', async () => {
    const dir = await tempFiles({
      'x.yaml': `${BASE}generation:\n  imageConfig:\n    aspectRatio: "1:1"\n    imageSize: 1k\n`,
    });
    const file = path.join(dir, 'x.yaml');
    const error = await loadError(file);
    expect(error.code).toBe('E_JOB_FILE');
    expect(error.message).toBe(
      `${file}:12 field \`generation.imageConfig.imageSize\`: "1k" is not a size gemini-3.1-flash-image-preview offers (512, 1K, 2K, 4K)`,
    );
    expect(error.location).toEqual({ file, line: 12, field: 'generation.imageConfig.imageSize' });
  });

  it('points at the variant that overrides a bad aspect ratio', async () => {
    const dir = await tempFiles({
      'v.yaml': `${BASE}variants:\n  - name: hero\n  - name: banner\n    aspectRatio: "7:3"\n`,
    });
    const file = path.join(dir, 'v.yaml');
    const error = await loadError(file);
    expect(error.message).toMatch(/v\.yaml:12 field `variants\[1\]\.aspectRatio`: "7:3" is not an aspect ratio gemini-3\.1-flash-image-preview offers/);
  });

  it('reports YAML syntax errors with the line', async () => {
    const dir = await tempFiles({ 'bad.yaml': 'name: a\ncatalog: [1\nmodel: x\n' });
    const file = path.join(dir, 'bad.yaml');
    const error = await loadError(file);
    expect(error.code).toBe('E_JOB_FILE');
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: not valid YAML: `));
    expect(error.location?.line).toBeGreaterThanOrEqual(2);
  });

  it('refuses a job file that is not UTF-8, naming the line and the byte (before: U+FFFD went into the prompt)', async () => {
    // "Café" saved as Latin-1: é is the single byte 0xe9.
    const latin1 = Buffer.concat([Buffer.from(`${BASE}system: "Caf`), Buffer.from([0xe9]), Buffer.from(' style"\n')]);
    const dir = await tempFiles({ 'latin1.yaml': latin1 });
    const file = path.join(dir, 'latin1.yaml');
    const error = await loadError(file);
    expect(error.code).toBe('E_JOB_FILE');
    expect(error.message).toBe(`${file}:9: not UTF-8 text (byte 0xe9 at offset ${latin1.indexOf(0xe9)}); save the file as UTF-8`);
    // Accents in UTF-8 are fine.
    const dir2 = await tempFiles({ 'utf8.yaml': `${BASE}system: "Café style"\n` });
    expect((await loadJobFile(path.join(dir2, 'utf8.yaml'))).name).toBe('shoes');
  });

  it('refuses aliases that expand without bound as a job file error, not an internal one', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h'].entries()) {
      const previous = String.fromCharCode('a'.charCodeAt(0) + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const dir = await tempFiles({ 'laughs.yaml': `${BASE}${levels.join('\n')}\n` });
    const file = path.join(dir, 'laughs.yaml');
    const error = await loadError(file);
    expect(error.code).toBe('E_JOB_FILE');
    expect(error.message).toBe(`${file}: not usable YAML: Excessive alias count indicates a resource exhaustion attack`);
  });

  it('reports a missing job file and a missing system file', async () => {
    const dir = await tempFiles({ 'sys.yaml': `${BASE}system: { file: missing.md }\n` });
    const missing = await loadError(path.join(dir, 'nope.yaml'));
    expect(missing.code).toBe('E_JOB_FILE');
    expect(missing.message).toBe(`${path.join(dir, 'nope.yaml')}: cannot read the job file (ENOENT)`);
    const system = await loadError(path.join(dir, 'sys.yaml'));
    expect(system.message).toBe(`${path.join(dir, 'sys.yaml')}:9 field \`system.file\`: cannot read "missing.md" (ENOENT)`);
  });

  it('rejects secrets with the field and line', async () => {
    const dir = await tempFiles({ 's.yaml': `${BASE}sync:\n  concurrency: 4\n  apiKey: AIzaNOTREAL\n` });
    const file = path.join(dir, 's.yaml');
    const error = await loadError(file);
    expect(error.message).toBe(
      `${file}:11 field \`sync.apiKey\`: secrets never live in job files; API keys and storage credentials come from the environment`,
    );
    expect(error.message).not.toContain('AIzaNOTREAL');
  });

  it('rejects unknown fields (typos) with their line', async () => {
    const dir = await tempFiles({ 't.yaml': `${BASE}generation:\n  temprature: 0.5\n` });
    const file = path.join(dir, 't.yaml');
    const error = await loadError(file);
    expect(error.message).toBe(`${file}:10 field \`generation.temprature\`: unknown field "temprature"`);
  });
});
