import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeSourceImage } from '../../../src/emulator/decode-source-image.js';

function solid(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: { r: 10, g: 200, b: 30 } } });
}

describe('decodeSourceImage', () => {
  it.each([
    ['png', () => solid(6, 4).png().toBuffer()],
    ['jpeg', () => solid(6, 4).jpeg({ quality: 100 }).toBuffer()],
    ['webp', () => solid(6, 4).webp({ lossless: true }).toBuffer()],
  ] as const)('decodes %s to packed 8-bit RGB', async (_format, make) => {
    const decoded = await decodeSourceImage(await make());
    expect(decoded).toMatchObject({ width: 6, height: 4 });
    expect(decoded?.data.length).toBe(6 * 4 * 3);
    const [r = 0, g = 0, b = 0] = decoded?.data ?? [];
    expect(Math.abs(r - 10) + Math.abs(g - 200) + Math.abs(b - 30)).toBeLessThanOrEqual(3);
  });

  it('drops alpha and expands greyscale to RGB', async () => {
    const rgba = await sharp({ create: { width: 2, height: 2, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.2 } } }).png().toBuffer();
    expect([...(await decodeSourceImage(rgba))!.data.subarray(0, 3)]).toEqual([1, 2, 3]);
    const grey = await solid(2, 2).greyscale().png().toBuffer();
    expect((await decodeSourceImage(grey))?.data.length).toBe(2 * 2 * 3);
  });

  it('shrinks large sources to 1024 px on the longest side', async () => {
    const decoded = await decodeSourceImage(await solid(3000, 1500).jpeg().toBuffer());
    expect([decoded?.width, decoded?.height]).toEqual([1024, 512]);
  });

  it('leaves HEIF-container images (HEIC, AVIF) and garbage undecoded', async () => {
    expect(await decodeSourceImage(await solid(8, 8).avif().toBuffer())).toBeUndefined();
    expect(await decodeSourceImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]))).toBeUndefined();
  });
});
