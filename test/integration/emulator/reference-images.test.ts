import { createHash } from 'node:crypto';
import { ApiError, GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_MODELS } from '../../../src/gemini/model-catalog.js';
import type { LoggedInputImage, RequestLogEntry } from '../../../src/emulator/request-log.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { BLUE, GREEN, RED, imageDataOf, readOutput, solidImage, type Rgb } from './reference-image-fixtures.js';

const KEY = 'ref-key';
const MODEL = 'gemini-3.1-flash-image-preview';
/** 512 px outputs keep the tests fast; 16:9 at 512 is 688x384. */
const SMALL = { responseModalities: ['IMAGE'], imageConfig: { imageSize: '512', aspectRatio: '1:1' } };

let emulator: RunningEmulator;
let ai: GoogleGenAI;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY });
  ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: emulator.url } });
});
afterAll(async () => {
  await emulator.close();
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function inline(bytes: Buffer, mimeType: string) {
  return { inlineData: { mimeType, data: bytes.toString('base64') } };
}

async function generate(parts: unknown[], config: Record<string, unknown> = SMALL, model = MODEL) {
  const response = await ai.models.generateContent({ model, contents: [{ role: 'user', parts: parts as never }], config });
  return imageDataOf(response);
}

async function post(model: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${emulator.url}/v1beta/models/${model}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function lastLoggedInputs(): Promise<LoggedInputImage[] | undefined> {
  const response = await fetch(`${emulator.url}/emulator/requests?route=generateContent&limit=1`);
  const { entries } = (await response.json()) as { entries: RequestLogEntry[] };
  return entries[0]?.inputImages;
}

function expectDerivedFrom(colour: Rgb, output: Rgb | undefined): void {
  // Output = round((3 * source + tint) / 4) with tint in 0..255: a source channel at 255 lands at
  // 191 or more, one at 0 at 64 or less (a JPEG's 255 may decode as 254: 190.5).
  expect(output).toBeDefined();
  for (const channel of ['r', 'g', 'b'] as const) {
    if (colour[channel] === 255) expect(output![channel]).toBeGreaterThanOrEqual(190);
    else expect(output![channel]).toBeLessThanOrEqual(64);
  }
}

describe('reference images: decoding', () => {
  it.each([
    ['png', 'image/png'],
    ['jpeg', 'image/jpeg'],
    ['webp', 'image/webp'],
  ] as const)('a solid red / blue %s input gives a solid reddish / bluish output of the exact size', async (format, mimeType) => {
    const prompt = `recolour the ${format} product`;
    const red = readOutput(await generate([inline(await solidImage(format, RED), mimeType), { text: prompt }]));
    const blue = readOutput(await generate([inline(await solidImage(format, BLUE), mimeType), { text: prompt }]));
    expect([red.width, red.height]).toEqual([512, 512]);
    expect([blue.width, blue.height]).toEqual([512, 512]);
    expectDerivedFrom(RED, red.solid);
    expectDerivedFrom(BLUE, blue.solid);
    // The tints differ (input hashes seed them), but each moves a channel by at most 64.
    expect(red.solid!.r - blue.solid!.r).toBeGreaterThanOrEqual(190 - 64);
    expect(blue.solid!.b - red.solid!.b).toBeGreaterThanOrEqual(190 - 64);
  });

  it('without an aspectRatio, a JPEG input keeps its shape (160x90 → 16:9, 688x384 at 512)', async () => {
    const jpeg = await solidImage('jpeg', GREEN, 160, 90);
    const output = readOutput(await generate([inline(jpeg, 'image/jpeg'), { text: 'wide shot' }], { responseModalities: ['IMAGE'], imageConfig: { imageSize: '512' } }));
    expect([output.width, output.height]).toEqual([688, 384]);
    expectDerivedFrom(GREEN, output.solid);
  });

  it('with several inputs the output copies the first, and every input seeds it', async () => {
    const red = await solidImage('png', RED);
    const blue = await solidImage('jpeg', BLUE);
    const green = await solidImage('webp', GREEN);
    const redBlue = await generate([inline(red, 'image/png'), inline(blue, 'image/jpeg'), { text: 'combine' }]);
    const redGreen = await generate([inline(red, 'image/png'), inline(green, 'image/webp'), { text: 'combine' }]);
    expectDerivedFrom(RED, readOutput(redBlue).solid);
    expectDerivedFrom(RED, readOutput(redGreen).solid);
    expect(redGreen).not.toBe(redBlue);
    expect(await generate([inline(red, 'image/png'), inline(blue, 'image/jpeg'), { text: 'combine' }])).toBe(redBlue);
  });
});

describe('reference images: per-model limit', () => {
  it.each(Object.values(IMAGE_MODELS).map((model) => [model.id, model.maxReferenceImages] as const))(
    '%s: %i input images pass, one more → 400 INVALID_ARGUMENT',
    async (model, limit) => {
      const png = await solidImage('png', RED, 8, 8);
      const parts = (count: number) => [...Array.from({ length: count }, () => inline(png, 'image/png')), { text: 'many references' }];
      const config = { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '1:1' } };

      const ok = await post(model, { contents: [{ parts: parts(limit) }], generationConfig: config });
      expect(ok.status).toBe(200);
      const perImage = model === 'gemini-2.5-flash-image' ? 258 : 1120;
      expect(ok.body.usageMetadata.promptTokensDetails).toContainEqual({ modality: 'IMAGE', tokenCount: limit * perImage });

      const over = await post(model, { contents: [{ parts: parts(limit + 1) }], generationConfig: config });
      const message = `Too many input images: the request has ${limit + 1}, but ${model} accepts at most ${limit} per request.`;
      expect(over.status).toBe(400);
      expect(over.body).toEqual({
        error: {
          code: 400,
          message,
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'contents', description: message }] }],
        },
      });
      const logged = await lastLoggedInputs();
      expect(logged).toHaveLength(limit + 1);
      expect(new Set(logged?.map((image) => image.sha256))).toEqual(new Set([sha256(png)]));
    },
  );

  it('the limit is 14 for every model (3.1 Flash 10+4, 3 Pro 6+5 by role; 2.5 Flash 3+3 advised)', () => {
    expect(
      Object.values(IMAGE_MODELS).map((model) => [model.id, model.maxReferenceImages, model.maxObjectImages, model.maxCharacterImages]),
    ).toEqual([
      ['gemini-3.1-flash-image-preview', 14, 10, 4],
      ['gemini-3-pro-image-preview', 14, 6, 5],
      ['gemini-2.5-flash-image', 14, 3, 3],
    ]);
  });

  it('counts fileData parts too: 14 inline + 1 gs:// URI → 400', async () => {
    const png = await solidImage('png', RED, 8, 8);
    const parts = [...Array.from({ length: 14 }, () => inline(png, 'image/png')), { fileData: { mimeType: 'image/png', fileUri: 'gs://bucket/ref.png' } }, { text: 'x' }];
    const response = await post(MODEL, { contents: [{ parts }] });
    expect(response.status).toBe(400);
    expect(response.body.error.status).toBe('INVALID_ARGUMENT');
    expect(response.body.error.message).toBe(`Too many input images: the request has 15, but ${MODEL} accepts at most 14 per request.`);
  });
});

describe('reference images: fileData', () => {
  it('an uploaded PNG named by uri or by name gives the same image bytes as sending it inline', async () => {
    const png = await solidImage('png', RED, 40, 30);
    const file = await ai.files.upload({ file: new Blob([png], { type: 'image/png' }), config: { mimeType: 'image/png' } });
    expect(file.uri).toBe(`${emulator.url}/v1beta/files/${(file.name ?? '').slice('files/'.length)}`);
    const prompt = { text: 'studio shot of the reference' };
    const viaInline = await generate([inline(png, 'image/png'), prompt]);
    const viaUri = await generate([{ fileData: { mimeType: 'image/png', fileUri: file.uri } }, prompt]);
    const viaName = await generate([{ fileData: { fileUri: file.name } }, prompt]);
    // Seeded by content, not by delivery: identical bytes, not just a similar colour.
    expect(viaUri).toBe(viaInline);
    expect(viaName).toBe(viaInline);
    expectDerivedFrom(RED, readOutput(viaUri).solid);
  });

  it('a file id the emulator does not have → 403 PERMISSION_DENIED, as Google answers', async () => {
    for (const fileUri of ['files/nosuchfile123', `${emulator.url}/v1beta/files/nosuchfile123`]) {
      const response = await post(MODEL, { contents: [{ parts: [{ fileData: { mimeType: 'image/png', fileUri } }, { text: 'x' }] }] });
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        error: { code: 403, message: 'You do not have permission to access the File nosuchfile123 or it may not exist.', status: 'PERMISSION_DENIED' },
      });
    }
  });

  it('a deleted file → 403, and the SDK surfaces it as ApiError 403', async () => {
    const png = await solidImage('png', BLUE, 8, 8);
    const file = await ai.files.upload({ file: new Blob([png], { type: 'image/png' }), config: { mimeType: 'image/png' } });
    await ai.files.delete({ name: file.name ?? '' });
    const error = await generate([{ fileData: { mimeType: 'image/png', fileUri: file.uri } }, { text: 'x' }]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(403);
    expect((error as ApiError).message).toContain(`You do not have permission to access the File ${(file.name ?? '').slice(6)} or it may not exist.`);
  });

  it('an uploaded file that is not an image → 400 "Unable to process input image"', async () => {
    const file = await ai.files.upload({ file: new Blob(['{"key":"a"}\n'], { type: 'application/jsonl' }), config: { mimeType: 'application/jsonl' } });
    const response = await post(MODEL, { contents: [{ parts: [{ fileData: { fileUri: file.uri } }, { text: 'x' }] }] });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: 400,
      message: 'Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      status: 'INVALID_ARGUMENT',
    });
  });

  it('URIs that are not the emulator\'s (gs://, other hosts) stay seed only: 200, pattern output', async () => {
    for (const fileUri of ['gs://bucket/ref.png', 'https://cdn.example.com/v1beta/files/abc']) {
      const data = await generate([{ fileData: { mimeType: 'image/png', fileUri } }, { text: 'seed only' }]);
      expect(readOutput(data).solid).toBeUndefined();
      expect(await lastLoggedInputs()).toEqual([{ via: 'file', mimeType: 'image/png', fileUri }]);
    }
  });
});

describe('reference images: request log', () => {
  it('shows per request how many images arrived, inline or by file, with sha256 and mime type', async () => {
    const jpeg = await solidImage('jpeg', GREEN);
    const png = await solidImage('png', RED);
    const file = await ai.files.upload({ file: new Blob([png], { type: 'image/png' }), config: { mimeType: 'image/png' } });
    await generate([inline(jpeg, 'image/jpeg'), { fileData: { fileUri: file.uri } }, { fileData: { mimeType: 'image/heic', fileUri: 'gs://b/c.heic' } }, { text: 'log me' }]);
    const entry = emulator.requestLog.list({ route: 'generateContent' }).at(-1);
    expect(entry?.status).toBe(200);
    expect(entry?.inputImages).toEqual([
      { via: 'inline', mimeType: 'image/jpeg', sha256: sha256(jpeg), sizeBytes: jpeg.length },
      { via: 'file', mimeType: 'image/png', sha256: sha256(png), sizeBytes: png.length, fileUri: file.uri, fileName: file.name },
      { via: 'file', mimeType: 'image/heic', fileUri: 'gs://b/c.heic' },
    ]);
    expect(await lastLoggedInputs()).toEqual(entry?.inputImages);
  });

  it('a missing file still shows in the log of the 403', async () => {
    await post(MODEL, { contents: [{ parts: [{ fileData: { mimeType: 'image/webp', fileUri: 'files/gone42' } }, { text: 'x' }] }] });
    const entry = emulator.requestLog.list({ route: 'generateContent' }).at(-1);
    expect(entry?.status).toBe(403);
    expect(entry?.inputImages).toEqual([{ via: 'file', mimeType: 'image/webp', fileUri: 'files/gone42' }]);
  });
});

describe('reference images: file expiry', () => {
  it('a file past its 48 h lifetime → 403 like a missing one', async () => {
    let offsetMs = 0;
    const clocked = await startEmulator({ apiKey: KEY, now: () => Date.now() + offsetMs });
    try {
      const client = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: clocked.url } });
      const file = await client.files.upload({ file: new Blob([await solidImage('png', RED, 8, 8)], { type: 'image/png' }), config: { mimeType: 'image/png' } });
      const request = { model: MODEL, contents: [{ role: 'user', parts: [{ fileData: { mimeType: 'image/png', fileUri: file.uri ?? '' } }, { text: 'x' }] }], config: SMALL };
      await expect(client.models.generateContent(request)).resolves.toBeDefined();
      offsetMs = 48 * 3_600_000 + 1;
      const error = await client.models.generateContent(request).catch((caught: unknown) => caught);
      expect((error as ApiError).status).toBe(403);
    } finally {
      await clocked.close();
    }
  });
});
