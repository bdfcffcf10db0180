import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { promptHashOf } from '../../../src/emulator/validate-generate-request.js';
import { readLabel } from '../../helpers/read-label.js';

let emulator: RunningEmulator;
let ai: GoogleGenAI;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: 'test-key' });
  ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: emulator.url } });
});
afterAll(async () => {
  await emulator.close();
});

function imagePart(response: GenerateContentResponse) {
  const parts = response.candidates?.[0]?.content?.parts ?? [];
  return parts.find((part) => part.inlineData !== undefined) as
    | { inlineData: { mimeType: string; data: string }; thoughtSignature?: string }
    | undefined;
}

function decode(base64: string): PNG {
  return PNG.sync.read(Buffer.from(base64, 'base64'));
}

describe('generateContent through @google/genai', () => {
  const cases = [
    { model: 'gemini-3.1-flash-image-preview', aspectRatio: '16:9', imageSize: '2K', width: 2752, height: 1536, imageTokens: 1680 },
    { model: 'gemini-3.1-flash-image-preview', aspectRatio: '1:8', imageSize: '512', width: 192, height: 1536, imageTokens: 747 },
    { model: 'gemini-3.1-flash-image-preview', aspectRatio: '1:1', imageSize: '4K', width: 4096, height: 4096, imageTokens: 2520 },
    { model: 'gemini-3-pro-image-preview', aspectRatio: '3:4', imageSize: '1K', width: 896, height: 1200, imageTokens: 1120 },
    { model: 'gemini-2.5-flash-image', aspectRatio: '21:9', imageSize: '1K', width: 1536, height: 672, imageTokens: 1290 },
  ] as const;

  for (const c of cases) {
    it(`${c.model} ${c.aspectRatio} ${c.imageSize} → ${c.width}x${c.height} PNG with usage`, async () => {
      const prompt = `A red ceramic mug on white marble ${c.model} ${c.aspectRatio}`;
      const response = await ai.models.generateContent({
        model: c.model,
        contents: prompt,
        config: { responseModalities: ['TEXT', 'IMAGE'], imageConfig: { aspectRatio: c.aspectRatio, imageSize: c.imageSize } },
      });
      const candidate = response.candidates?.[0];
      expect(candidate?.finishReason).toBe('STOP');
      const parts = candidate?.content?.parts ?? [];
      expect(parts.map((part) => (part.text !== undefined ? 'text' : 'image'))).toEqual(['text', 'image']);
      const image = imagePart(response);
      expect(image?.inlineData.mimeType).toBe('image/png');
      const png = decode(image?.inlineData.data ?? '');
      expect([png.width, png.height]).toEqual([c.width, c.height]);

      const thinking = c.model !== 'gemini-2.5-flash-image';
      expect(parts[0]?.thoughtSignature !== undefined).toBe(thinking);
      expect(parts[1]?.thoughtSignature !== undefined).toBe(thinking);

      const usage = response.usageMetadata;
      const promptWords = prompt.split(' ').length;
      const captionWords = (parts[0]?.text ?? '').split(/\s+/).length;
      expect(usage?.promptTokenCount).toBe(promptWords);
      expect(usage?.candidatesTokenCount).toBe(c.imageTokens + captionWords);
      expect(usage?.candidatesTokensDetails).toEqual([
        { modality: 'IMAGE', tokenCount: c.imageTokens },
        { modality: 'TEXT', tokenCount: captionWords },
      ]);
      expect(usage?.promptTokensDetails).toEqual([{ modality: 'TEXT', tokenCount: promptWords }]);
      const thoughts = usage?.thoughtsTokenCount ?? 0;
      if (thinking) expect(thoughts).toBeGreaterThanOrEqual(100);
      else expect(usage?.thoughtsTokenCount).toBeUndefined();
      expect(usage?.totalTokenCount).toBe(promptWords + c.imageTokens + captionWords + thoughts);
      expect(response.modelVersion).toBe(c.model);
      expect(typeof response.responseId).toBe('string');
    });
  }

  it('IMAGE-only gives one image part; TEXT-only gives one text part', async () => {
    const imageOnly = await ai.models.generateContent({
      model: 'gemini-3.1-flash-image-preview',
      contents: 'a blue sneaker',
      config: { responseModalities: ['IMAGE'] },
    });
    const imageParts = imageOnly.candidates?.[0]?.content?.parts ?? [];
    expect(imageParts).toHaveLength(1);
    expect(imageParts[0]?.inlineData?.mimeType).toBe('image/png');
    expect(imageParts[0]?.thoughtSignature).toBeTypeOf('string');
    expect(imageOnly.usageMetadata?.candidatesTokensDetails).toEqual([{ modality: 'IMAGE', tokenCount: 1120 }]);

    const textOnly = await ai.models.generateContent({
      model: 'gemini-3.1-flash-image-preview',
      contents: 'a blue sneaker',
      config: { responseModalities: ['TEXT'] },
    });
    const textParts = textOnly.candidates?.[0]?.content?.parts ?? [];
    expect(textParts).toHaveLength(1);
    expect(textParts[0]?.text).toContain('a blue sneaker');
  });

  it('the image says what it is: the prompt\'s first words across the top, trigger phrases left out', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-3.1-flash-image-preview',
      contents: 'SKU-1042 linen shirt in sand [[emu:latency=10ms]] on a wooden hanger',
      config: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '1:1', imageSize: '1K' } },
    });
    const image = imagePart(response)!;
    // Two lines of 20 cells at 1K (8 px a font pixel): the words that fit.
    expect(readLabel(Buffer.from(image.inlineData.data, 'base64'))).toBe('SKU-1042 LINEN SHIRT IN SAND ON A WOODEN');
  });

  it('includeThoughts adds a thought summary and an interim thought image first; the signature moves to the first non-thought part', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-3-pro-image-preview',
      contents: 'a green lamp',
      config: { thinkingConfig: { includeThoughts: true } },
    });
    const parts = response.candidates?.[0]?.content?.parts ?? [];
    expect(parts).toHaveLength(4);
    expect(parts[0]?.thought).toBe(true);
    expect(parts[0]?.text).toContain('Composing the shot');
    expect(parts[0]?.thoughtSignature).toBeUndefined();
    // The interim image is a thought: no signature, and not the final image.
    expect(parts[1]?.thought).toBe(true);
    expect(parts[1]?.inlineData?.mimeType).toBe('image/png');
    expect(parts[1]?.thoughtSignature).toBeUndefined();
    expect(parts[1]?.inlineData?.data).not.toBe(parts[3]?.inlineData?.data);
    expect(parts[2]?.text).toBeTypeOf('string');
    expect(parts[2]?.thoughtSignature).toBeTypeOf('string');
    expect(parts[3]?.inlineData?.mimeType).toBe('image/png');
    expect(parts[3]?.thoughtSignature).toBeTypeOf('string');
    expect(response.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
  });

  it('is deterministic: same request → same bytes; other prompt or seed → other bytes', async () => {
    const generate = async (contents: string, seed?: number) => {
      const response = await ai.models.generateContent({
        model: 'gemini-3.1-flash-image-preview',
        contents,
        config: { responseModalities: ['IMAGE'], ...(seed === undefined ? {} : { seed }) },
      });
      return imagePart(response)?.inlineData.data ?? '';
    };
    const first = await generate('a yellow raincoat');
    const again = await generate('a yellow raincoat');
    const other = await generate('a purple raincoat');
    const seeded = await generate('a yellow raincoat', 7);
    expect(first.length).toBeGreaterThan(100);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(seeded).not.toBe(first);
    // Visibly different: the pixel colours differ, not only some metadata.
    const a = decode(first);
    const b = decode(other);
    expect(a.data.equals(b.data)).toBe(false);
  });

  it('image-to-image output is a tinted copy of the input image', async () => {
    const input = new PNG({ width: 64, height: 64 });
    for (let y = 0; y < 64; y += 1) {
      for (let x = 0; x < 64; x += 1) {
        const offset = (y * 64 + x) * 4;
        const left = x < 32;
        input.data[offset] = left ? 255 : 0;
        input.data[offset + 1] = 0;
        input.data[offset + 2] = left ? 0 : 255;
        input.data[offset + 3] = 255;
      }
    }
    const inputBase64 = PNG.sync.write(input).toString('base64');
    const response = await ai.models.generateContent({
      model: 'gemini-3.1-flash-image-preview',
      contents: [{ role: 'user', parts: [{ text: 'make it pop' }, { inlineData: { mimeType: 'image/png', data: inputBase64 } }] }],
      config: { responseModalities: ['IMAGE'], imageConfig: { imageSize: '512' } },
    });
    const png = decode(imagePart(response)?.inlineData.data ?? '');
    // No aspect ratio given: the input's (square) shape is kept.
    expect([png.width, png.height]).toEqual([512, 512]);
    const pixel = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    const [leftRed = 0, , leftBlue = 0] = pixel(10, 256);
    const [rightRed = 0, , rightBlue = 0] = pixel(500, 256);
    expect(leftRed).toBeGreaterThan(180);
    expect(leftBlue).toBeLessThan(70);
    expect(rightBlue).toBeGreaterThan(180);
    expect(rightRed).toBeLessThan(70);
    expect(response.usageMetadata?.promptTokensDetails).toEqual([
      { modality: 'TEXT', tokenCount: 3 },
      { modality: 'IMAGE', tokenCount: 1120 },
    ]);
  });

  it('counts successful generations per prompt hash in the request log', async () => {
    const prompt = 'a counted teapot';
    await ai.models.generateContent({ model: 'gemini-2.5-flash-image', contents: prompt });
    await ai.models.generateContent({ model: 'gemini-2.5-flash-image', contents: prompt });
    expect(emulator.requestLog.generationsFor(promptHashOf(prompt))).toBe(2);
    expect(emulator.requestLog.count({ route: 'generateContent', promptHash: promptHashOf(prompt), status: 200 })).toBe(2);
    const entry = emulator.requestLog.list({ promptHash: promptHashOf(prompt) })[0];
    expect(entry).toMatchObject({ method: 'POST', path: '/v1beta/models/gemini-2.5-flash-image:generateContent', model: 'gemini-2.5-flash-image', status: 200 });
  });
});

describe('auth and validation errors through @google/genai', () => {
  async function apiError(call: () => Promise<unknown>): Promise<{ status: number; body: unknown }> {
    try {
      await call();
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      const apiError = error as ApiError;
      return { status: apiError.status, body: JSON.parse(apiError.message) as unknown };
    }
    throw new Error('expected an ApiError');
  }

  it('wrong key → 400 API_KEY_INVALID', async () => {
    const wrong = new GoogleGenAI({ apiKey: 'not-the-key', httpOptions: { baseUrl: emulator.url } });
    const { status, body } = await apiError(() => wrong.models.generateContent({ model: 'gemini-2.5-flash-image', contents: 'x' }));
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
          { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
        ],
      },
    });
  });

  it('lowercase imageSize "1k" → 400', async () => {
    const { status, body } = await apiError(() =>
      ai.models.generateContent({ model: 'gemini-3.1-flash-image-preview', contents: 'x', config: { imageConfig: { imageSize: '1k' } } }),
    );
    expect(status).toBe(400);
    expect(body).toMatchObject({
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: 'Unsupported image size "1k" for model gemini-3.1-flash-image-preview. Supported values: 512, 1K, 2K, 4K.',
      },
    });
  });

  it('a 3.1-only ratio on 2.5 Flash Image → 400; 512 on Pro → 400', async () => {
    const ratio = await apiError(() =>
      ai.models.generateContent({ model: 'gemini-2.5-flash-image', contents: 'x', config: { imageConfig: { aspectRatio: '1:4' } } }),
    );
    expect(ratio.status).toBe(400);
    expect((ratio.body as { error: { message: string } }).error.message).toBe(
      'Unsupported aspect ratio "1:4" for model gemini-2.5-flash-image. Supported values: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9.',
    );
    const size = await apiError(() =>
      ai.models.generateContent({ model: 'gemini-3-pro-image-preview', contents: 'x', config: { imageConfig: { imageSize: '512' } } }),
    );
    expect(size.status).toBe(400);
  });

  it('unknown model → 404 NOT_FOUND', async () => {
    const { status, body } = await apiError(() => ai.models.generateContent({ model: 'gemini-9-image', contents: 'x' }));
    expect(status).toBe(404);
    expect(body).toEqual({
      error: {
        code: 404,
        message:
          'models/gemini-9-image is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.',
        status: 'NOT_FOUND',
      },
    });
  });
});
