import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: 'k', realisticPayload: true });
});
afterAll(async () => {
  await emulator.close();
});

async function generatePng(imageSize: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const response = await fetch(`${emulator.url}/v1beta/models/gemini-3.1-flash-image-preview:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k', ...headers },
    body: JSON.stringify({
      contents: [{ parts: [{ text: `a realistic ${imageSize} catalog shot` }] }],
      generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '1:1', imageSize } },
    }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { candidates: { content: { parts: { inlineData: { data: string } }[] } }[] };
  return Buffer.from(body.candidates[0]?.content.parts[0]?.inlineData.data ?? '', 'base64');
}

describe('realisticPayload', () => {
  it('1K PNGs are 1.5–2 MB', async () => {
    const png = await generatePng('1K');
    expect(png.length).toBeGreaterThan(1_500_000);
    expect(png.length).toBeLessThan(2_000_000);
    expect(PNG.sync.read(png).width).toBe(1024);
  });

  it('4K PNGs are 15–20 MB, decodable at 4096x4096; RSS while serving is reported', async () => {
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    let png: Buffer;
    try {
      png = await generatePng('4K');
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(png.length).toBeGreaterThan(15_000_000);
    expect(png.length).toBeLessThan(20_000_000);
    const decoded = PNG.sync.read(png);
    expect([decoded.width, decoded.height]).toEqual([4096, 4096]);
    // Emulator and client share this process: the number includes the client's copy of the body.
    console.info(
      `realistic 4K: png ${(png.length / 1e6).toFixed(1)} MB, rss baseline ${(baseline / 1e6).toFixed(0)} MB, peak while serving ${(peak / 1e6).toFixed(0)} MB`,
    );
  });

  it('the per-request header can turn realism off', async () => {
    const png = await generatePng('4K', { 'x-emulator-knobs': '{"realisticPayload":false}' });
    expect(png.length).toBeLessThan(200_000);
  });
});
