import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/run-cli.js';
import { solidImage, startImageServer, type ImageServer } from '../../helpers/image-server.js';
import { tempDir, type TempDir } from '../../helpers/temp-dir.js';

describe('bunch run --dry-run with reference images', () => {
  let dir: TempDir;
  let photos: ImageServer;
  let jobFile: string;
  beforeAll(async () => {
    dir = await tempDir('refs-cli');
    photos = await startImageServer();
    photos.serve('/a.png', await solidImage({ r: 10, g: 200, b: 10 }));
    await writeFile(path.join(dir.path, 'c.csv'), `sku,title,photo\nA,Lamp,${photos.url}/a.png?token=s3cret\nB,Vase,${photos.url}/gone.png\n`);
    jobFile = path.join(dir.path, 'job.yaml');
    await writeFile(
      jobFile,
      ['name: refs-cli', 'catalog: { path: c.csv, key: sku }', 'model: gemini-3.1-flash-image-preview', 'prompt: "Photo of {{title}}"', 'references: [photo]', 'output: { url: "file://out" }'].join('\n'),
    );
  });
  afterAll(async () => {
    await photos?.close();
    await dir?.remove();
  });

  it('refuses loopback photos by default and fetches them with BUNCH_REFERENCES_ALLOW_PRIVATE=1; no query string is printed', async () => {
    const guarded = await runCli(['run', jobFile, '--dry-run', '--json'], { BUNCH_REFERENCES_ALLOW_PRIVATE: '' });
    expect(guarded.code).toBe(0);
    const refused = JSON.parse(guarded.stdout) as { items: number; rejectedRows: number; rejections: { code: string; reason: string }[] };
    expect(refused).toMatchObject({ items: 0, rejectedRows: 2 });
    expect(refused.rejections[0]).toEqual({
      file: path.join(dir.path, 'c.csv'),
      line: 2,
      rowNumber: 1,
      key: 'A',
      field: 'photo',
      code: 'E_REFERENCE',
      reason: `reference ${photos.url}/a.png names 127.0.0.1 (loopback); refused by the address guard (allow it with references.allowHosts)`,
    });
    expect(photos.hits('/a.png')).toBe(0);

    const allowed = await runCli(['run', jobFile, '--dry-run', '--json'], { BUNCH_REFERENCES_ALLOW_PRIVATE: '1' });
    expect(allowed.code).toBe(0);
    const preview = JSON.parse(allowed.stdout) as { items: number; rejectedRows: number; rejections: { code: string; reason: string }[] };
    expect(preview).toMatchObject({ items: 1, toGenerate: 1, rejectedRows: 1 });
    expect(preview.rejections[0]).toMatchObject({ code: 'E_REFERENCE', reason: `reference ${photos.url}/gone.png was not found (HTTP 404)` });
    expect(photos.hits('/a.png')).toBe(1);
    expect(guarded.stdout + guarded.stderr + allowed.stdout + allowed.stderr).not.toContain('s3cret');
  });
});
