import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { galleryKeys } from '../../../src/gallery/gallery-keys.js';
import { productCsv, startBunchStack, type BunchStack } from '../../helpers/bunch-stack.js';
import { runCli } from '../../helpers/run-cli.js';
import { s3CliEnv, startS3, type S3Handle } from '../../helpers/start-s3.js';

/** The gallery over S3 (s3rver): written at finalize, rewritten by `bunch gallery`, opened through the presigned link it prints. */
describe('the run gallery on S3', () => {
  let s3: S3Handle;
  let stack: BunchStack;
  let env: Record<string, string>;
  beforeAll(async () => {
    s3 = await startS3();
    stack = await startBunchStack({ s3: s3.settings });
    await stack.startWorkers();
    env = s3CliEnv(s3, { redisUrl: stack.redis.url, prefix: stack.prefix });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await s3?.stop();
  });

  /** Finalizing, then the report worker (the gallery), have nothing left to do. */
  async function finalizeIdle(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (const queue of [stack.plane.queues.finalize, stack.plane.queues.report]) {
      for (;;) {
        const counts = await queue.getJobCounts('active', 'waiting', 'delayed');
        if ((counts['active'] ?? 0) + (counts['waiting'] ?? 0) + (counts['delayed'] ?? 0) === 0) break;
        if (Date.now() > deadline) throw new Error(`${queue.name} queue still busy: ${JSON.stringify(counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  it('is written at finalize; bunch gallery rewrites it and prints a presigned link that opens it', async () => {
    const outputUrl = `s3://${s3.bucket}/gallery-test`;
    const run = await stack.start(await stack.writeJob({ catalogCsv: productCsv(4, (i) => (i === 2 ? 'Refused [[emu:image-safety]]' : `Lamp ${i}`)), outputUrl }));
    await stack.waitForRun(run.runId);
    await finalizeIdle();
    const store = stack.storeFor(outputUrl);
    const keys = galleryKeys(run.runId);
    expect((await store.get(keys.index))?.toString('utf8')).toContain('<title>');

    const result = await runCli(['gallery', run.runId, '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { runId: string; gallery: string; link: string; items: number; thumbnails: number; missing: number };
    expect(printed).toMatchObject({ runId: run.runId, gallery: `${outputUrl}/${keys.index}`, items: 4, thumbnails: 3, missing: 0 });
    expect(printed.link.startsWith(`${s3.endpoint}/${s3.bucket}/gallery-test/${keys.index}?`)).toBe(true);
    expect(printed.link).toContain('X-Amz-Signature=');
    const page = await fetch(printed.link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`"runId":"${run.runId}"`);
    // s3rver's listing is unreliable: the thumbnails are checked by name (HEAD).
    const manifest = await stack.readManifest(store, run.runId);
    const drawn = manifest.filter((line) => line.status === 'succeeded');
    expect(drawn).toHaveLength(3);
    for (const line of drawn) {
      const thumb = await store.head(`${keys.folder}/${keys.thumb((line as { index: number }).index)}`);
      expect(thumb?.contentType).toBe('image/webp');
    }
  });

  it('report.gallery: false writes none; an unknown run is exit 2', async () => {
    const outputUrl = `s3://${s3.bucket}/no-gallery`;
    const run = await stack.start(await stack.writeJob({ catalogCsv: productCsv(2), outputUrl, job: { report: { gallery: false } } }));
    await stack.waitForRun(run.runId);
    await finalizeIdle();
    expect(await stack.storeFor(outputUrl).get(`runs/${run.runId}/summary.json`)).toBeDefined();
    expect(await stack.storeFor(outputUrl).get(galleryKeys(run.runId).index)).toBeUndefined();
    const unknown = await runCli(['gallery', 'no-such-run'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('bunch: E_NOT_FOUND: run no-such-run is not known to this Redis\n');
  });
});
