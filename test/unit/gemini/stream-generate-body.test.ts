import { describe, expect, it } from 'vitest';
import { Base64ChunkDecoder } from '../../../src/gemini/base64-chunk-decoder.js';
import { parseGenerateResponse } from '../../../src/gemini/parse-generate-response.js';
import { DECODED_DATA, STREAM_ABOVE_BYTES, readGenerateBody } from '../../../src/gemini/stream-generate-body.js';
import { decodeImage } from '../../../src/image/decode-image.js';
import { PNG } from 'pngjs';

/** A Response whose body arrives in pieces of `size` bytes. */
function chunked(text: string, size: number, headers: Record<string, string> = {}): Response {
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(new Uint8Array(bytes.subarray(at, at + size)));
      at += size;
    },
  });
  return new Response(body, { headers });
}

const png = (() => {
  const image = new PNG({ width: 64, height: 48 });
  image.data.fill(200);
  return PNG.sync.write(image);
})();
const answer = {
  candidates: [
    {
      content: {
        role: 'model',
        parts: [
          { text: 'A red square, "quoted" and \\u00e9scaped ✓' },
          { inlineData: { mimeType: 'image/png', data: png.toString('base64') }, thoughtSignature: 'c2ln' },
        ],
      },
      finishReason: 'STOP',
    },
  ],
  usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 1290, totalTokenCount: 1302 },
  modelVersion: 'gemini-3.1-flash-image-preview',
};

describe('readGenerateBody: a generateContent answer parsed as it streams', () => {
  for (const size of [1, 7, 4096, 1 << 20]) {
    it(`in pieces of ${size} bytes: the same value as JSON.parse, with the image decoded to bytes`, async () => {
      const value = (await readGenerateBody(chunked(JSON.stringify(answer), size))) as typeof answer;
      const expected = JSON.parse(JSON.stringify(answer)) as typeof answer;
      const inline = value.candidates[0]!.content.parts[1]!.inlineData as Record<string, unknown>;
      expect(inline[DECODED_DATA]).toEqual({ bytes: png });
      delete inline[DECODED_DATA];
      expected.candidates[0]!.content.parts[1]!.inlineData!.data = '';
      expect(value).toEqual(expected);
    });
  }

  it('with a Content-Length the image is decoded into a buffer sized from it, to the same bytes', async () => {
    const text = JSON.stringify(answer);
    for (const size of [3, 4096]) {
      const value = (await readGenerateBody(chunked(text, size, { 'content-length': String(Buffer.byteLength(text)) }), undefined, { streamAboveBytes: 0 })) as typeof answer;
      const inline = value.candidates[0]!.content.parts[1]!.inlineData as Record<string, unknown>;
      expect((inline[DECODED_DATA] as { bytes: Buffer }).bytes.equals(png)).toBe(true);
    }
  });

  it('gives the parser bytes, not base64; the image checks pass and an edit turn sends the base64 back', async () => {
    const parsed = parseGenerateResponse(await readGenerateBody(chunked(JSON.stringify(answer), 1000)));
    expect(parsed.images).toHaveLength(1);
    expect(parsed.images[0]!.base64).toBe('');
    expect(parsed.images[0]!.bytes!.equals(png)).toBe(true);
    expect(decodeImage(parsed.images[0]!, { width: 64, height: 48 })).toMatchObject({ width: 64, height: 48, mimeType: 'image/png', byteLength: png.length });
    expect(JSON.parse(JSON.stringify(parsed.turn))).toEqual([
      { text: 'A red square, "quoted" and \\u00e9scaped ✓' },
      { inlineData: { mimeType: 'image/png', data: png.toString('base64') }, thoughtSignature: 'c2ln' },
    ]);
  });

  it('bad base64 fails the image with E_BAD_IMAGE, as a whole-string decode does', async () => {
    const good = png.toString('base64');
    for (const data of [`${good.slice(0, 100)}*${good.slice(101)}`, `${good}=`.replace(/=+$/, '') + 'A', `${good.slice(0, -4)}==AA`, '']) {
      const body = JSON.stringify({ candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', data } }] } }] });
      const parsed = parseGenerateResponse(await readGenerateBody(chunked(body, 333)));
      expect(() => decodeImage(parsed.images[0]!), data.slice(-8)).toThrow(expect.objectContaining({ code: 'E_BAD_IMAGE' }));
    }
  });

  it('reads an answer announced at most streamAboveBytes long whole: the same parsed answer, base64 kept, errors alike', async () => {
    const text = JSON.stringify(answer);
    const length = { 'content-length': String(Buffer.byteLength(text)) };
    expect(STREAM_ABOVE_BYTES).toBe(1024 * 1024);
    const whole = (await readGenerateBody(chunked(text, 4096, length))) as typeof answer;
    expect(whole).toEqual(answer);
    const streamed = await readGenerateBody(chunked(text, 4096, length), undefined, { streamAboveBytes: text.length - 1 });
    expect(parseGenerateResponse(streamed).images[0]?.bytes?.equals(png)).toBe(true);
    expect(Buffer.from(parseGenerateResponse(whole).images[0]!.base64, 'base64').equals(png)).toBe(true);
    const broken = '{"candidates": [}';
    await expect(readGenerateBody(chunked(broken, 5, { 'content-length': String(broken.length) }))).rejects.toMatchObject({ code: 'E_MALFORMED_RESPONSE' });
    expect(await readGenerateBody(chunked('', 5, { 'content-length': '0' }))).toBeUndefined();
  });

  it('refuses a body over the cap (announced or counted) and a body that is not JSON or ends early', async () => {
    const text = JSON.stringify(answer);
    const cap = text.length - 1;
    await expect(readGenerateBody(chunked(text, 4096, { 'content-length': String(text.length) }), cap)).rejects.toMatchObject({
      code: 'E_RESPONSE_TOO_LARGE',
      message: expect.stringContaining(`Content-Length announces ${text.length} bytes`),
    });
    await expect(readGenerateBody(chunked(text, 64), cap)).rejects.toMatchObject({ code: 'E_RESPONSE_TOO_LARGE', message: expect.stringContaining('stopped reading after') });
    await expect(readGenerateBody(chunked('{"candidates": [}', 5))).rejects.toMatchObject({ code: 'E_MALFORMED_RESPONSE' });
    await expect(readGenerateBody(chunked(text.slice(0, text.length - 10), 512))).rejects.toMatchObject({ code: 'E_MALFORMED_RESPONSE' });
  });
});

describe('Base64ChunkDecoder', () => {
  it('decodes any split of a valid string to the same bytes', () => {
    const bytes = Buffer.from(Array.from({ length: 1001 }, (_, i) => (i * 37) % 256));
    const text = bytes.toString('base64');
    for (const size of [1, 2, 3, 5, 64, 1000]) {
      const decoder = new Base64ChunkDecoder();
      for (let at = 0; at < text.length; at += size) decoder.write(text.slice(at, at + size));
      expect(decoder.end()!.equals(bytes), String(size)).toBe(true);
    }
  });

  it('decodes into one buffer whatever the size hint: too small (it grows), exact, far too large (trimmed)', () => {
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 11) % 256));
    const text = bytes.toString('base64');
    for (const hint of [1, 3000, 10_000_000]) {
      const decoder = new Base64ChunkDecoder(hint);
      for (let at = 0; at < text.length; at += 101) decoder.write(text.slice(at, at + 101));
      const out = decoder.end()!;
      expect(out.equals(bytes), String(hint)).toBe(true);
      expect(out.buffer.byteLength).toBeLessThan(5_000_000);
    }
  });

  it('names what is wrong', () => {
    const bad = (parts: string[]) => {
      const decoder = new Base64ChunkDecoder();
      for (const part of parts) decoder.write(part);
      expect(decoder.end()).toBeUndefined();
      return decoder.problem;
    };
    const split = new Base64ChunkDecoder();
    for (const part of ['QUJD', 'RA=', '=']) split.write(part);
    expect(split.end()!.toString('latin1')).toBe('ABCD');
    expect(bad([])).toBe('image data is empty');
    expect(bad(['QUJD', 'R-=='])).toBe('image data is not valid base64');
    expect(bad(['QUJDRA==', 'QQ=='])).toBe('image data is not valid base64');
    expect(bad(['QUJDRA'])).toBe('image data is not valid base64');
  });
});
