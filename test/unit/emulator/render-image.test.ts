import { PNG } from 'pngjs';
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

  it('treats non-PNG sources as seed only', async () => {
    const jpegish = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const png = await renderImage({ width: 64, height: 64, seedMaterial: 's', source: jpegish });
    expect(PNG.sync.read(png).width).toBe(64);
  });
});
