import OpenAI, { toFile } from 'openai';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';

let emulator: RunningEmulator;
let client: OpenAI;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: 'k' });
  client = new OpenAI({ apiKey: 'k', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await emulator.close();
});

describe('OpenAI-compatible images with the official openai SDK', () => {
  it('images.generate with b64_json decodes to PNGs of the mapped size', async () => {
    const result = await client.images.generate({
      model: 'gemini-3.1-flash-image-preview',
      prompt: 'a wooden chair',
      n: 2,
      size: '1536x1024',
      response_format: 'b64_json',
    });
    expect(result.data).toHaveLength(2);
    const [first, second] = (result.data ?? []).map((item) => PNG.sync.read(Buffer.from(item.b64_json ?? '', 'base64')));
    expect([first?.width, first?.height]).toEqual([1264, 848]); // 3:2 at 1K
    expect(second?.data.equals(first?.data ?? Buffer.alloc(0))).toBe(false);
    expect(result.usage).toMatchObject({ input_tokens: 6, input_tokens_details: { text_tokens: 6, image_tokens: 0 } });
    expect(result.size).toBe('1264x848');
  });

  it('images.edit (multipart) returns a tinted copy of the uploaded image', async () => {
    const input = new PNG({ width: 32, height: 32 });
    input.data.fill(255);
    for (let offset = 0; offset < input.data.length; offset += 4) input.data[offset + 1] = 0; // magenta
    const file = await toFile(PNG.sync.write(input), 'input.png', { type: 'image/png' });
    const result = await client.images.edit({ model: 'gemini-2.5-flash-image', image: file, prompt: 'make it glossy' });
    const png = PNG.sync.read(Buffer.from(result.data?.[0]?.b64_json ?? '', 'base64'));
    expect([png.width, png.height]).toEqual([1024, 1024]);
    // A pixel of the picture, below the label band the emulator draws across the top.
    const bottomLeft = (png.height - 1) * png.width * 4;
    const [red = 0, green = 0, blue = 0] = png.data.subarray(bottomLeft, bottomLeft + 3);
    expect(red).toBeGreaterThan(190);
    expect(blue).toBeGreaterThan(190);
    expect(green).toBeLessThan(65);
    expect(emulator.requestLog.count({ route: 'openai.images.edits', status: 200 })).toBe(1);
  });

  it('a wrong key → 401 AuthenticationError with the OpenAI envelope', async () => {
    const wrong = new OpenAI({ apiKey: 'nope', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
    const error = await wrong.images.generate({ prompt: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).error).toEqual({
      message: 'Incorrect API key provided.',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    });
  });

  it('faults map to OpenAI errors: 429 keeps Retry-After, safety → content_policy_violation', async () => {
    const limited = await client.images
      .generate({ prompt: 'x [[emu:429:retry=3s]]' }, { headers: { 'x-emulator-knobs': '{"retryAfterHeader":true}' } })
      .catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('3');
    const refused = await client.images.generate({ prompt: 'x [[emu:image-safety]]' }).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('content_policy_violation');
  });

  it('the Google /v1beta/openai path works for 2.5 and is 404 for 3.1 Flash Image, as on the real service', async () => {
    const google = new OpenAI({ apiKey: 'k', baseURL: `${emulator.url}/v1beta/openai`, maxRetries: 0 });
    const ok = await google.images.generate({ model: 'gemini-2.5-flash-image', prompt: 'a cup', response_format: 'b64_json' });
    expect(ok.data?.[0]?.b64_json).toBeTypeOf('string');
    const missing = await google.images.generate({ model: 'gemini-3.1-flash-image-preview', prompt: 'a cup' }).catch((caught: unknown) => caught);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
