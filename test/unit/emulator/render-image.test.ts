import { PNG } from 'pngjs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderImage } from '../../../src/emulator/render-image.js';

describe('renderImage', () => {
  it('produces a decodable PNG of the exact size, deterministic per seed material', async () => {
    const a = await renderImage({ width: 300, height: 170, seedMaterial: 'one' });
    const again = await renderImage({ width: 300, height: 170, seedMaterial: 'one' });
    const other = await renderImage({ width: 300, height: 170, seedMaterial: 'two' });
    expect(again.equals(a)).toBe(true);
    expect(other.equals(a)).toBe(false);
    const decoded = PNG.sync.read(a);
    expect([decoded.width, decoded.height]).toEqual([300, 170]);
    expect(PNG.sync.read(other).data.equals(decoded.data)).toBe(false);
  });

  it('keeps default images small, even large ones', async () => {
    const png = await renderImage({ width: 2048, height: 2048, seedMaterial: 'big' });
    expect(png.length).toBeLessThan(50_000);
    expect(PNG.sync.read(png).width).toBe(2048);
  });

  it('realistic mode makes a 1K PNG of 1.5–2 MB, still deterministic', async () => {
    const first = await renderImage({ width: 1024, height: 1024, seedMaterial: 'real', realistic: true });
    const second = await renderImage({ width: 1024, height: 1024, seedMaterial: 'real', realistic: true });
    expect(first.length).toBeGreaterThan(1_500_000);
    expect(first.length).toBeLessThan(2_000_000);
    expect(second.equals(first)).toBe(true);
  });

  it('treats undecodable sources as seed only', async () => {
    const jpegish = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const png = await renderImage({ width: 64, height: 64, seedMaterial: 's', source: jpegish });
    expect(PNG.sync.read(png).width).toBe(64);
    expect(png.equals(await renderImage({ width: 64, height: 64, seedMaterial: 's' }))).toBe(true);
  });

  it('copies a JPEG source, scaled to the output size and mixed 3:1 with the tint', async () => {
    // Left half black, right half white: the copy keeps that split at the output's scale.
    const jpeg = await sharp({ create: { width: 16, height: 8, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .composite([{ input: { create: { width: 8, height: 8, channels: 3, background: { r: 255, g: 255, b: 255 } } }, left: 8, top: 0 }])
      .jpeg({ quality: 100 })
      .toBuffer();
    const decoded = PNG.sync.read(await renderImage({ width: 64, height: 32, seedMaterial: 'j', source: jpeg }));
    const pixel = (x: number, y: number) => decoded.data[(y * 64 + x) * 4] ?? 0;
    expect(pixel(2, 16)).toBeLessThanOrEqual(64 + 2);
    expect(pixel(61, 16)).toBeGreaterThanOrEqual(190);
  });
});
