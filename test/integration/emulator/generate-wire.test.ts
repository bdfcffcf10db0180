import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: 'k' });
});
afterAll(async () => {
  await emulator.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = { 'x-goog-api-key': 'k' }) {
  const response = await fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

const GENERATE = '/v1beta/models/gemini-3.1-flash-image-preview:generateContent';
const simple = { contents: [{ parts: [{ text: 'a hat' }] }] };

describe('generateContent on the wire', () => {
  it('missing key → 403 PERMISSION_DENIED', async () => {
    const { status, text } = await post(GENERATE, simple, {});
    expect(status).toBe(403);
    expect(JSON.parse(text)).toEqual({
      error: {
        code: 403,
        message:
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        status: 'PERMISSION_DENIED',
      },
    });
  });

  it('accepts ?key= and the /v1 path', async () => {
    const { status } = await post('/v1/models/gemini-3.1-flash-image-preview:generateContent?key=k', simple, {});
    expect(status).toBe(200);
  });

  it('accepts snake_case fields and case-insensitive enums', async () => {
    const input = new PNG({ width: 8, height: 16 });
    const { status, text } = await post(GENERATE, {
      contents: [{ role: 'user', parts: [{ text: 'a hat' }, { inline_data: { mime_type: 'image/png', data: PNG.sync.write(input).toString('base64') } }] }],
      generation_config: {
        response_modalities: ['Image'],
        image_config: { aspect_ratio: '9:16', image_size: '512' },
        thinking_config: { thinking_level: 'High', include_thoughts: false },
      },
      system_instruction: { parts: [{ text: 'brand guide' }] },
    });
    expect(status).toBe(200);
    const body = JSON.parse(text) as { candidates: { content: { parts: { inlineData?: { data: string } }[] } }[] };
    const parts = body.candidates[0]?.content.parts ?? [];
    expect(parts).toHaveLength(1);
    const png = PNG.sync.read(Buffer.from(parts[0]?.inlineData?.data ?? '', 'base64'));
    expect([png.width, png.height]).toEqual([384, 688]);
  });

  it.each([
    [{ ...simple, foo: 1 }, 'Invalid JSON payload received. Unknown name "foo": Cannot find field.'],
    [
      { ...simple, generationConfig: { fooBar: 1 } },
      'Invalid JSON payload received. Unknown name "foo_bar" at \'generation_config\': Cannot find field.',
    ],
    [
      { ...simple, generationConfig: { imageConfig: { personGeneration: 'ALLOW_ALL' } } },
      'Invalid JSON payload received. Unknown name "person_generation" at \'generation_config.image_config\': Cannot find field.',
    ],
    [{ contents: [] }, '* GenerateContentRequest.contents: contents is not specified\n'],
    [{ contents: [{ parts: [] }] }, '* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n'],
    ['{not json', 'Invalid JSON payload received. Unexpected token.'],
    [
      { ...simple, generationConfig: { responseModalities: ['PICTURE'] } },
      'Invalid value at \'generation_config.response_modalities[0]\' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), "PICTURE"',
    ],
    [
      { contents: [{ parts: [{ inlineData: { mimeType: 'image/png', data: 'not base64!' } }] }] },
      "Invalid value at 'contents[0].parts[0].inline_data.data' (TYPE_BYTES), Base64 decoding failed",
    ],
    [
      { contents: [{ parts: [{ inlineData: { mimeType: 'image/png', data: Buffer.from('hello world').toString('base64') } }] }] },
      'Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
    ],
  ])('400 INVALID_ARGUMENT for %j', async (body, message) => {
    const { status, text } = await post(GENERATE, body);
    expect(status).toBe(400);
    const parsed = JSON.parse(text) as { error: { code: number; status: string; message: string } };
    expect(parsed.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT', message });
  });

  it('unknown field errors carry a google.rpc.BadRequest detail', async () => {
    const { text } = await post(GENERATE, { ...simple, generationConfig: { fooBar: 1 } });
    expect((JSON.parse(text) as { error: { details: unknown[] } }).error.details).toEqual([
      {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [
          {
            field: 'generation_config',
            description: 'Invalid JSON payload received. Unknown name "foo_bar" at \'generation_config\': Cannot find field.',
          },
        ],
      },
    ]);
  });

  it('thinkingConfig on 2.5 Flash Image → 400', async () => {
    const { status } = await post('/v1beta/models/gemini-2.5-flash-image:generateContent', {
      ...simple,
      generationConfig: { thinkingConfig: { thinkingLevel: 'HIGH' } },
    });
    expect(status).toBe(400);
  });

  it('streamGenerateContent?alt=sse answers one SSE event', async () => {
    const { status, text, headers } = await post('/v1beta/models/gemini-3.1-flash-image-preview:streamGenerateContent?alt=sse', simple);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('text/event-stream');
    expect(text.startsWith('data: {"candidates"')).toBe(true);
    expect(text.endsWith('\r\n\r\n')).toBe(true);
  });

  it('unknown paths → 404 and inspection endpoints answer without auth', async () => {
    expect((await fetch(`${emulator.url}/v1beta/nothing`)).status).toBe(404);
    expect(await (await fetch(`${emulator.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const stats = (await (await fetch(`${emulator.url}/emulator/stats`)).json()) as { total: number; byRoute: Record<string, number> };
    expect(stats.total).toBe(emulator.requestLog.count());
    expect(stats.byRoute['unmatched']).toBe(1);
    const requests = (await (await fetch(`${emulator.url}/emulator/requests?route=generateContent&status=403`)).json()) as {
      count: number;
      entries: { status: number; path: string }[];
    };
    expect(requests.count).toBe(1);
    expect(requests.entries[0]).toMatchObject({ status: 403, path: GENERATE });
  });
});
