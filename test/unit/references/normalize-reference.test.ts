import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { normalizeReference, type NormalizedReference } from '../../../src/references/normalize-reference.js';
import type { ReferenceFailureReason } from '../../../src/references/reference-fetch-options.js';
import { sniffImageType } from '../../../src/references/sniff-image-type.js';

const RED = { r: 200, g: 20, b: 30 };

function solid(width: number, height: number): sharp.Sharp {
  return sharp({ create: { width, height, channels: 3, background: RED } });
}

/** Left half red, right half blue: lets a test see which way an image was turned. */
function halves(width: number, height: number): sharp.Sharp {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      if (x < width / 2) pixels[at] = 255;
      else pixels[at + 2] = 255;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

/** Average red and blue of the pixel row `y` rows from the top. */
async function rowColour(image: Buffer, y: number): Promise<{ r: number; b: number }> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let r = 0;
  let b = 0;
  for (let x = 0; x < info.width; x++) {
    const at = (y * info.width + x) * info.channels;
    r += data[at] ?? 0;
    b += data[at + 2] ?? 0;
  }
  return { r: Math.round(r / info.width), b: Math.round(b / info.width) };
}

async function expectRefused(run: Promise<unknown>, reason: ReferenceFailureReason, ...messageParts: string[]): Promise<BunchError> {
  const error = await run.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(BunchError);
  const bunchError = error as BunchError;
  expect(bunchError.code).toBe('E_REFERENCE');
  expect(bunchError.reason).toBe(reason);
  expect(bunchError.retryable).toBe(false);
  for (const part of messageParts) expect(bunchError.message).toContain(part);
  // Messages are for people: short, and never a dump of the bytes.
  expect(bunchError.message.length).toBeLessThan(400);
  return bunchError;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG that declares width x height but carries almost no pixel data: what a decompression bomb's header looks like. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(16))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function isoBox(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

const FULL_BOX_HEADER = Buffer.alloc(4); // version 0, flags 0

function ftypBox(major: string, compatible: string[]): Buffer {
  return isoBox('ftyp', Buffer.from(major, 'latin1'), Buffer.alloc(4), ...compatible.map((brand) => Buffer.from(brand, 'latin1')));
}

function ispe(width: number, height: number): Buffer {
  const size = Buffer.alloc(8);
  size.writeUInt32BE(width, 0);
  size.writeUInt32BE(height, 4);
  return isoBox('ispe', FULL_BOX_HEADER, size);
}

/**
 * The container skeleton of a HEIC file: `ftyp`, then `meta` > `iprp` > `ipco` with one `ispe`
 * (image spatial extents) per image item. No coded pixels: enough for reading sizes, which is
 * all bunch does with HEIC.
 */
function heicSkeleton(major: string, ...sizes: Array<[number, number]>): Buffer {
  const ipco = isoBox('ipco', ...sizes.map(([width, height]) => ispe(width, height)));
  return Buffer.concat([ftypBox(major, ['mif1', major]), isoBox('meta', FULL_BOX_HEADER, isoBox('iprp', ipco))]);
}

async function dimensions(image: Buffer): Promise<[number, number]> {
  const { width, height } = await sharp(image).metadata();
  return [width, height];
}

describe('normalizeReference: pass-through', () => {
  it('returns a small PNG without metadata byte for byte', async () => {
    const input = await solid(64, 48).png().toBuffer();
    const result = await normalizeReference(input, { longestSide: 2048 });
    expect(result).toEqual<NormalizedReference>({ bytes: input, mimeType: 'image/png', width: 64, height: 48, transformed: false });
    expect(Buffer.compare(result.bytes, input)).toBe(0);
  });

  it.each([
    ['JPEG', 'image/jpeg', () => solid(300, 200).jpeg().toBuffer()],
    ['WebP', 'image/webp', () => solid(300, 200).webp().toBuffer()],
  ] as const)('returns a clean %s within the size unchanged', async (_name, mimeType, make) => {
    const input = await make();
    const result = await normalizeReference(input, { longestSide: 300 });
    expect(result).toMatchObject({ mimeType, width: 300, height: 200, transformed: false });
    expect(Buffer.compare(result.bytes, input)).toBe(0);
  });

  it('keeps the size when longestSide is undefined, and never enlarges', async () => {
    const input = await solid(3000, 1500).jpeg().toBuffer();
    const unlimited = await normalizeReference(input, { longestSide: undefined });
    expect(unlimited).toMatchObject({ width: 3000, height: 1500, transformed: false });
    expect(Buffer.compare(unlimited.bytes, input)).toBe(0);
  });

  it('keeps an image whose only metadata is an ICC profile', async () => {
    const input = await solid(120, 80).withIccProfile('p3').jpeg().toBuffer();
    const metadata = await sharp(input).metadata();
    expect(metadata.icc).toBeDefined();
    expect(metadata.exif).toBeUndefined();
    const result = await normalizeReference(input, { longestSide: 2048 });
    expect(result.transformed).toBe(false);
    expect(Buffer.compare(result.bytes, input)).toBe(0);
  });

  it('strips an EXIF block even when its orientation is 1', async () => {
    const upright = await solid(50, 40).withMetadata({ orientation: 1 }).jpeg().toBuffer();
    expect((await sharp(upright).metadata()).exif).toBeDefined();
    // Orientation 1 is harmless, but the EXIF block it lives in is still stripped.
    const result = await normalizeReference(upright, { longestSide: undefined });
    expect(result).toMatchObject({ width: 50, height: 40, transformed: true });
    expect((await sharp(result.bytes).metadata()).exif).toBeUndefined();
  });
});

describe('normalizeReference: re-encoding', () => {
  it('scales a 3000x1500 JPEG down to 2048x1024 JPEG', async () => {
    const input = await solid(3000, 1500).jpeg().toBuffer();
    const result = await normalizeReference(input, { longestSide: 2048 });
    expect(result).toMatchObject({ mimeType: 'image/jpeg', width: 2048, height: 1024, transformed: true });
    expect(sniffImageType(result.bytes)).toBe('image/jpeg');
    expect(await dimensions(result.bytes)).toEqual([2048, 1024]);
  });

  it('scales a tall PNG and a WebP by their longest side, keeping the format', async () => {
    const png = await normalizeReference(await solid(500, 1000).png().toBuffer(), { longestSide: 400 });
    expect(png).toMatchObject({ mimeType: 'image/png', width: 200, height: 400, transformed: true });
    expect(sniffImageType(png.bytes)).toBe('image/png');
    const webp = await normalizeReference(await solid(1000, 500).webp().toBuffer(), { longestSide: 400 });
    expect(webp).toMatchObject({ mimeType: 'image/webp', width: 400, height: 200, transformed: true });
    expect(sniffImageType(webp.bytes)).toBe('image/webp');
  });

  it('turns an EXIF orientation 6 JPEG upright and drops the EXIF', async () => {
    // Stored 200x100, left half red; orientation 6 means "turn 90° clockwise to show".
    const input = await halves(200, 100).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(input).metadata()).orientation).toBe(6);
    const result = await normalizeReference(input, { longestSide: 2048 });
    expect(result).toMatchObject({ mimeType: 'image/jpeg', width: 100, height: 200, transformed: true });
    const metadata = await sharp(result.bytes).metadata();
    expect([metadata.width, metadata.height]).toEqual([100, 200]);
    expect(metadata.exif).toBeUndefined();
    expect(metadata.orientation).toBeUndefined();
    // Turned clockwise, the stored left (red) half is now the top.
    const top = await rowColour(result.bytes, 10);
    const bottom = await rowColour(result.bytes, 190);
    expect(top.r).toBeGreaterThan(200);
    expect(top.b).toBeLessThan(50);
    expect(bottom.b).toBeGreaterThan(200);
    expect(bottom.r).toBeLessThan(50);
  });

  it('applies orientation and resize together: dimensions are post-rotation, post-resize', async () => {
    const input = await solid(4000, 2000).jpeg().withMetadata({ orientation: 8 }).toBuffer();
    const result = await normalizeReference(input, { longestSide: 1000 });
    expect(result).toMatchObject({ width: 500, height: 1000, transformed: true });
    expect(await dimensions(result.bytes)).toEqual([500, 1000]);
  });

  it('strips GPS EXIF from a JPEG that needs no resize', async () => {
    const input = await solid(320, 240)
      .jpeg()
      .withExif({ IFD0: { Make: 'PhoneCo', Model: 'P1' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } })
      .toBuffer();
    expect((await sharp(input).metadata()).exif?.includes('PhoneCo')).toBe(true);
    const result = await normalizeReference(input, { longestSide: 2048 });
    expect(result).toMatchObject({ mimeType: 'image/jpeg', width: 320, height: 240, transformed: true });
    const metadata = await sharp(result.bytes).metadata();
    expect(metadata.exif).toBeUndefined();
    expect(result.bytes.includes('PhoneCo')).toBe(false);
  });

  it('strips XMP from a WebP', async () => {
    const xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Jane Photographer"/></rdf:RDF></x:xmpmeta>';
    const input = await solid(64, 64).webp().withXmp(xmp).toBuffer();
    expect((await sharp(input).metadata()).xmp).toBeDefined();
    const result = await normalizeReference(input, { longestSide: undefined });
    expect(result).toMatchObject({ mimeType: 'image/webp', transformed: true });
    expect((await sharp(result.bytes).metadata()).xmp).toBeUndefined();
    expect(result.bytes.includes('Jane Photographer')).toBe(false);
  });

  it('converts a CMYK JPEG to an sRGB JPEG', async () => {
    const input = await solid(80, 60).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(input).metadata()).space).toBe('cmyk');
    const result = await normalizeReference(input, { longestSide: undefined });
    expect(result).toMatchObject({ mimeType: 'image/jpeg', width: 80, height: 60, transformed: true });
    expect((await sharp(result.bytes).metadata()).space).toBe('srgb');
  });

  it('converts a GIF to a PNG of the same size', async () => {
    const input = await solid(90, 70).gif().toBuffer();
    expect(sniffImageType(input)).toBe('image/gif');
    const result = await normalizeReference(input, { longestSide: 2048 });
    expect(result).toMatchObject({ mimeType: 'image/png', width: 90, height: 70, transformed: true });
    expect(sniffImageType(result.bytes)).toBe('image/png');
    expect(await dimensions(result.bytes)).toEqual([90, 70]);
  });

  it('sends an animated WebP as its first frame (before: all frames, unchanged)', async () => {
    // Three 40x40 frames: blue, red, blue.
    const strip = Buffer.alloc(40 * 120 * 3);
    for (let pixel = 0; pixel < 40 * 120; pixel++) {
      const red = pixel >= 40 * 40 && pixel < 80 * 40;
      strip[pixel * 3] = red ? 255 : 0;
      strip[pixel * 3 + 2] = red ? 0 : 255;
    }
    const input = await sharp(strip, { raw: { width: 40, height: 120, channels: 3, pageHeight: 40 } }).webp({ loop: 0, delay: [100, 100, 100], lossless: true }).toBuffer();
    expect((await sharp(input).metadata()).pages).toBe(3);
    const out = await normalizeReference(input, { longestSide: 2048 });
    expect([out.transformed, out.mimeType, out.width, out.height]).toEqual([true, 'image/webp', 40, 40]);
    const meta = await sharp(out.bytes).metadata();
    expect(meta.pages ?? 1).toBe(1);
    // The first frame is blue all over (the red frame is the second).
    const { channels } = await sharp(out.bytes).stats();
    expect([Math.round(channels[0]?.mean ?? -1), Math.round(channels[2]?.mean ?? -1)]).toEqual([0, 255]);
  });

  it('converts an AVIF to a PNG, scaled down when needed', async () => {
    const input = await solid(400, 200).avif().toBuffer();
    expect(sniffImageType(input)).toBe('image/avif');
    const result = await normalizeReference(input, { longestSide: 100 });
    expect(result).toMatchObject({ mimeType: 'image/png', width: 100, height: 50, transformed: true });
    expect(sniffImageType(result.bytes)).toBe('image/png');
  });

  it.each([
    ['JPEG resized', () => halves(3000, 1500).jpeg().toBuffer(), 1024],
    ['JPEG rotated', () => halves(300, 150).jpeg().withMetadata({ orientation: 6 }).toBuffer(), undefined],
    ['PNG resized', () => halves(1200, 900).png().toBuffer(), 512],
    ['WebP resized', () => halves(1200, 900).webp().toBuffer(), 512],
    ['GIF', () => halves(120, 90).gif().toBuffer(), undefined],
    ['AVIF', () => halves(120, 90).avif().toBuffer(), undefined],
  ] as const)('is deterministic: %s twice gives identical bytes', async (_name, make, longestSide) => {
    const input = await make();
    const first = await normalizeReference(input, { longestSide });
    const second = await normalizeReference(Buffer.from(input), { longestSide });
    expect(first.transformed).toBe(true);
    expect(Buffer.compare(first.bytes, second.bytes)).toBe(0);
    expect(second).toEqual(first);
  });
});

describe('normalizeReference: refusals', () => {
  it('refuses an HTML error page as unsupported-type, naming what it looks like and what is accepted', async () => {
    const page = Buffer.from('<!DOCTYPE html><html><body><h1>403 Forbidden</h1></body></html>');
    const error = await expectRefused(normalizeReference(page, { longestSide: 2048 }), 'unsupported-type', 'looks like HTML/text', 'PNG, JPEG, WebP');
    expect(error.message).not.toContain('Forbidden');
  });

  it('refuses unknown bytes, showing only the first few in hex', async () => {
    const blob = Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xaa, 0xbb]);
    const error = await expectRefused(normalizeReference(blob, { longestSide: undefined }), 'unsupported-type', 'first bytes 00 01 02 03 04 05 06 07 ...');
    expect(error.message).not.toContain('aa bb');
  });

  it.each([
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), 'SVG'],
    ['TIFF', Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0, 0, 0]), 'TIFF'],
    ['empty', Buffer.alloc(0), 'empty'],
  ])('refuses %s as unsupported-type', async (_name, input, messagePart) => {
    await expectRefused(normalizeReference(input, { longestSide: 2048 }), 'unsupported-type', messagePart);
  });

  it('refuses a truncated PNG that would otherwise pass through as undecodable', async () => {
    const whole = await halves(256, 256).png().toBuffer();
    const cut = whole.subarray(0, Math.floor(whole.length / 2));
    await expectRefused(normalizeReference(cut, { longestSide: 2048 }), 'undecodable', 'PNG image cannot be decoded', 'truncated or corrupt');
  });

  it('refuses a truncated JPEG that needs re-encoding as undecodable', async () => {
    const whole = await halves(400, 300).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const cut = whole.subarray(0, whole.length - 200);
    await expectRefused(normalizeReference(cut, { longestSide: 100 }), 'undecodable', 'JPEG image cannot be decoded');
  });

  it('refuses a PNG cut inside its header as undecodable', async () => {
    const whole = await solid(10, 10).png().toBuffer();
    await expectRefused(normalizeReference(whole.subarray(0, 20), { longestSide: undefined }), 'undecodable', 'PNG');
  });

  it('refuses a 20000x20000 PNG header as too-many-pixels without decoding it', async () => {
    await expectRefused(
      normalizeReference(pngHeaderOnly(20_000, 20_000), { longestSide: 2048 }),
      'too-many-pixels',
      '20000x20000 (400 megapixels)',
      'limit of 100 megapixels',
    );
  });

  it('refuses a real image above a lowered maxInputPixels as too-many-pixels', async () => {
    const input = await solid(300, 200).png().toBuffer();
    await expectRefused(normalizeReference(input, { longestSide: undefined, maxInputPixels: 50_000 }), 'too-many-pixels', '300x200');
    await expect(normalizeReference(input, { longestSide: undefined, maxInputPixels: 60_000 })).resolves.toMatchObject({ transformed: false });
  });

  it('rejects nonsensical options as a programming error, not a bad reference', async () => {
    const input = await solid(10, 10).png().toBuffer();
    await expect(normalizeReference(input, { longestSide: 0 })).rejects.toMatchObject({ code: 'E_INTERNAL' });
    await expect(normalizeReference(input, { longestSide: undefined, maxInputPixels: -1 })).rejects.toMatchObject({ code: 'E_INTERNAL' });
  });
});

describe('normalizeReference: HEIC/HEIF pass-through', () => {
  it('passes a HEIC through unchanged with the size of its largest image item', async () => {
    // A phone HEIC lists tile and thumbnail sizes before the full image's.
    const input = heicSkeleton('heic', [512, 512], [320, 240], [4032, 3024]);
    expect(sniffImageType(input)).toBe('image/heic');
    const result = await normalizeReference(input, { longestSide: 2048 });
    // Larger than longestSide, but sharp cannot decode HEVC: it goes as it is.
    expect(result).toEqual<NormalizedReference>({ bytes: input, mimeType: 'image/heic', width: 4032, height: 3024, transformed: false });
  });

  it('passes a HEIF (mif1) through as image/heif', async () => {
    const input = heicSkeleton('mif1', [640, 480]);
    expect(sniffImageType(input)).toBe('image/heif');
    await expect(normalizeReference(input, { longestSide: undefined })).resolves.toMatchObject({ mimeType: 'image/heif', width: 640, height: 480, transformed: false });
  });

  it('refuses a bare ftyp box whose size cannot be read as undecodable', async () => {
    const input = Buffer.concat([ftypBox('heic', ['mif1', 'heic']), isoBox('mdat', Buffer.alloc(32))]);
    expect(sniffImageType(input)).toBe('image/heic');
    await expectRefused(normalizeReference(input, { longestSide: 2048 }), 'undecodable', 'HEIC image is corrupt or incomplete');
  });

  it('refuses a HEIC declaring too many pixels', async () => {
    await expectRefused(normalizeReference(heicSkeleton('heic', [30_000, 20_000]), { longestSide: 2048 }), 'too-many-pixels', 'HEIC image is 30000x20000');
  });
});
