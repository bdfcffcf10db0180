import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { decodeImage, sniffImageType } from '../../../src/image/decode-image.js';

function png(width: number, height: number): Buffer {
  const image = new PNG({ width, height });
  for (let i = 0; i < image.data.length; i += 4) {
    image.data[i] = (i / 4) % 256;
    image.data[i + 1] = 128;
    image.data[i + 2] = 32;
    image.data[i + 3] = 255;
  }
  return PNG.sync.write(image);
}

/** SOI, a JFIF APP0 segment, a baseline SOF0 header with the size, EOI: enough for sniffing and sizing. */
function jpeg(width: number, height: number): Buffer {
  const app0 = [0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00];
  const sof0 = [
    0xff, 0xc0, 0x00, 0x11, 0x08,
    height >> 8, height & 0xff, width >> 8, width & 0xff,
    0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
  ];
  return Buffer.from([0xff, 0xd8, ...app0, ...sof0, 0xff, 0xd9]);
}

function expectMalformed(run: () => unknown, messagePart: string): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BunchError);
    expect((error as BunchError).code).toBe('E_BAD_IMAGE');
    expect((error as BunchError).retryable).toBe(true);
    expect((error as BunchError).retryable).toBe(true);
    expect((error as BunchError).message).toContain(messagePart);
    return;
  }
  throw new Error('expected E_BAD_IMAGE');
}

describe('decodeImage', () => {
  it('decodes a real PNG and checks its size', () => {
    const bytes = png(64, 48);
    const decoded = decodeImage({ mimeType: 'image/png', base64: bytes.toString('base64') }, { width: 64, height: 48 });
    expect(decoded).toEqual({
      bytes,
      mimeType: 'image/png',
      ext: 'png',
      width: 64,
      height: 48,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      byteLength: bytes.length,
    });
  });

  it('decodes a JPEG header, also declared as image/jpg', () => {
    const base64 = jpeg(1376, 768).toString('base64');
    const decoded = decodeImage({ mimeType: 'image/jpg', base64 }, { width: 1376, height: 768 });
    expect(decoded.mimeType).toBe('image/jpeg');
    expect(decoded.ext).toBe('jpg');
    expect([decoded.width, decoded.height]).toEqual([1376, 768]);
  });

  it('a size far from the expected one is kept with a warning: a retry would pay for the same answer', () => {
    const square = decodeImage({ mimeType: 'image/png', base64: png(32, 32).toString('base64') }, { width: 1024, height: 1024 });
    expect([square.width, square.height, square.sizeWarning]).toEqual([
      32,
      32,
      'image is 32x32, expected 1024x1024: smaller size class (longest side 32 instead of 1024)',
    ]);
    const wide = decodeImage({ mimeType: 'image/png', base64: png(64, 48).toString('base64') }, { width: 64, height: 64 });
    expect(wide.sizeWarning).toBe('image is 64x48, expected 64x64: aspect ratio 1.333 instead of 1.000');
  });

  it('a size within 5% of the table is accepted with its real dimensions (the size table is partly inferred)', () => {
    const bytes = png(1344, 768);
    const decoded = decodeImage({ mimeType: 'image/png', base64: bytes.toString('base64') }, { width: 1376, height: 768 });
    expect([decoded.width, decoded.height]).toEqual([1344, 768]);
    expect(decoded.sizeWarning).toBeUndefined();
  });

  it('a declared type that disagrees with the bytes is rejected', () => {
    expectMalformed(
      () => decodeImage({ mimeType: 'image/png', base64: jpeg(8, 8).toString('base64') }),
      'declared as image/png but its bytes are image/jpeg',
    );
    expectMalformed(
      () => decodeImage({ mimeType: 'image/jpeg', base64: Buffer.from('not an image at all').toString('base64') }),
      'not a known image format',
    );
  });

  it('an unsupported mimeType is rejected', () => {
    expectMalformed(() => decodeImage({ mimeType: 'image/gif', base64: 'R0lGODlh' }), 'unsupported image mimeType');
  });

  it.each([
    ['a stray character', (b: string) => `${b.slice(0, 40)}*${b.slice(41)}`],
    ['whitespace', (b: string) => `${b.slice(0, 40)}\n${b.slice(40)}`],
    ['url-safe alphabet', (b: string) => `${b.slice(0, 40)}-${b.slice(41)}`],
    ['padding in the middle', (b: string) => `${b.slice(0, 40)}==${b.slice(42)}`],
    ['a length that is not a multiple of 4', (b: string) => b.slice(0, -1)],
  ])('bad base64 (%s) is rejected', (_name, corrupt) => {
    const base64 = corrupt(png(16, 16).toString('base64'));
    expectMalformed(() => decodeImage({ mimeType: 'image/png', base64 }), 'not valid base64');
  });

  it('empty data is rejected', () => {
    expectMalformed(() => decodeImage({ mimeType: 'image/png', base64: '' }), 'empty');
  });

  it('a truncated PNG (IEND missing) is rejected', () => {
    const bytes = png(64, 64);
    const cut = bytes.subarray(0, bytes.length - 30);
    expectMalformed(() => decodeImage({ mimeType: 'image/png', base64: cut.toString('base64') }), 'PNG is truncated');
  });

  it('a truncated JPEG (no EOI) is rejected', () => {
    const cut = jpeg(64, 64).subarray(0, -2);
    expectMalformed(() => decodeImage({ mimeType: 'image/jpeg', base64: cut.toString('base64') }), 'JPEG is truncated');
  });

  it('a WebP whose RIFF size exceeds the data is rejected', () => {
    const header = Buffer.alloc(30);
    header.write('RIFF', 0, 'latin1');
    header.writeUInt32LE(5000, 4);
    header.write('WEBPVP8 ', 8, 'latin1');
    expectMalformed(() => decodeImage({ mimeType: 'image/webp', base64: header.toString('base64') }), 'WebP is truncated');
  });

  it('sniffs the three formats', () => {
    expect(sniffImageType(png(1, 1))).toBe('image/png');
    expect(sniffImageType(jpeg(1, 1))).toBe('image/jpeg');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1'))).toBe('image/webp');
    expect(sniffImageType(Buffer.from('GIF89a'))).toBeUndefined();
  });
});
