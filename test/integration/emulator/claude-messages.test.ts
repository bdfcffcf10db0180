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

function messages(body: unknown, headers: Record<string, string> = { 'x-api-key': 'k' }): Promise<Response> {
  return fetch(`${emulator.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify(body),
  });
}

describe('Claude-compatible /v1/messages', () => {
  it('answers a message with a text block and a base64 PNG image block', async () => {
    const response = await messages({
      model: 'gemini-3-pro-image-preview',
      max_tokens: 1024,
      system: 'brand guide',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'a leather bag' }] }],
      image_config: { aspect_ratio: '16:9', image_size: '2K' },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      type: string;
      role: string;
      stop_reason: string;
      content: { type: string; text?: string; source?: { type: string; media_type: string; data: string } }[];
      usage: { input_tokens: number; output_tokens: number };
    };
    expect(body).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn', model: 'gemini-3-pro-image-preview' });
    expect(body.content.map((block) => block.type)).toEqual(['text', 'image']);
    expect(body.content[1]?.source).toMatchObject({ type: 'base64', media_type: 'image/png' });
    const png = PNG.sync.read(Buffer.from(body.content[1]?.source?.data ?? '', 'base64'));
    expect([png.width, png.height]).toEqual([2752, 1536]);
    expect(body.usage.input_tokens).toBe(5); // "brand guide" + "a leather bag"
    expect(body.usage.output_tokens).toBeGreaterThan(1120);
  });

  it('Bearer auth works; a wrong key → 401 authentication_error', async () => {
    const ok = await messages({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'a cap' }] }, { authorization: 'Bearer k' });
    expect(ok.status).toBe(200);
    const wrong = await messages({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'a cap' }] }, { 'x-api-key': 'no' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  });

  it('maps faults: 503 → 529 overloaded_error, safety → stop_reason refusal, unknown model → 404', async () => {
    const overloaded = await messages({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'x [[emu:503]]' }] });
    expect(overloaded.status).toBe(529);
    expect(((await overloaded.json()) as { error: { type: string } }).error.type).toBe('overloaded_error');
    const refused = await messages({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'x [[emu:block]]' }] });
    expect(refused.status).toBe(200);
    const refusedBody = (await refused.json()) as { stop_reason: string; content: { type: string }[] };
    expect(refusedBody.stop_reason).toBe('refusal');
    expect(refusedBody.content.map((block) => block.type)).toEqual(['text']);
    const missing = await messages({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'x' }] });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
  });
});
