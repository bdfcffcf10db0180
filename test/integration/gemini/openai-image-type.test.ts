import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../../src/image/decode-image.js';
import { createOpenAiCaller } from '../../../src/protocols/openai-caller.js';

/**
 * An OpenAI Images answer without `output_format` (Google's compatibility layer and most gateways
 * send none): the image's type comes from its bytes. Before, a JPEG was labelled PNG and failed
 * as E_BAD_IMAGE — after being paid for, twice.
 */
describe('the OpenAI images protocol, an answer without output_format', () => {
  let server: Server;
  let base = '';
  let answer: unknown;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  const request = { contents: [{ role: 'user', parts: [{ text: 'Studio photo of a mug' }] }], generationConfig: { responseModalities: ['IMAGE'] } };

  it('labels a JPEG as JPEG, and it decodes', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#c33' } }).jpeg().toBuffer();
    answer = { created: 1, data: [{ b64_json: jpeg.toString('base64') }] };
    const caller = createOpenAiCaller({ apiKey: 'k', baseUrl: base, mode: 'images' });
    const { response } = await caller.generateContent('gemini-2.5-flash-image', request as never, { timeoutMs: 5000 });
    const [image] = response.images;
    expect(image?.mimeType).toBe('image/jpeg');
    expect(() => decodeImage({ mimeType: image!.mimeType, base64: image!.base64 })).not.toThrow();
  });

  it('keeps a declared output_format', async () => {
    const webp = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3c3' } }).webp().toBuffer();
    answer = { created: 1, output_format: 'webp', data: [{ b64_json: webp.toString('base64') }] };
    const caller = createOpenAiCaller({ apiKey: 'k', baseUrl: base, mode: 'images' });
    const { response } = await caller.generateContent('gpt-image-1', request as never, { timeoutMs: 5000 });
    expect(response.images[0]?.mimeType).toBe('image/webp');
  });
});
