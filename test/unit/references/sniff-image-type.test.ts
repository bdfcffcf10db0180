import { describe, expect, it } from 'vitest';
import { describeUnknownBytes, sniffImageType } from '../../../src/references/sniff-image-type.js';

/** An ISO-BMFF `ftyp` box: size, 'ftyp', major brand, minor version 0, compatible brands. */
function ftyp(major: string, compatible: string[] = []): Buffer {
  const box = Buffer.alloc(16 + 4 * compatible.length);
  box.writeUInt32BE(box.length, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(major, 8, 'latin1');
  compatible.forEach((brand, index) => box.write(brand, 16 + 4 * index, 'latin1'));
  // Something after the box, as in a real file.
  return Buffer.concat([box, Buffer.from([0, 0, 0, 8, 0x6d, 0x65, 0x74, 0x61])]);
}

const bytes = (...values: number[]): Buffer => Buffer.from(values);

describe('sniffImageType', () => {
  it.each([
    ['PNG', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13), 'image/png'],
    ['JPEG (JFIF)', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10), 'image/jpeg'],
    ['JPEG (Exif)', bytes(0xff, 0xd8, 0xff, 0xe1, 0, 0x10), 'image/jpeg'],
    ['WebP', Buffer.from('RIFF\x24\0\0\0WEBPVP8 ', 'latin1'), 'image/webp'],
    ['GIF87a', Buffer.from('GIF87a\x01\0\x01\0', 'latin1'), 'image/gif'],
    ['GIF89a', Buffer.from('GIF89a\x01\0\x01\0', 'latin1'), 'image/gif'],
  ])('%s', (_name, input, expected) => {
    expect(sniffImageType(input)).toBe(expected);
  });

  it.each(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx'])('major brand %s is HEIC', (brand) => {
    expect(sniffImageType(ftyp(brand, ['mif1', brand]))).toBe('image/heic');
  });

  it.each(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx'])('compatible brand %s under mif1 is HEIC', (brand) => {
    expect(sniffImageType(ftyp('mif1', ['mif1', brand]))).toBe('image/heic');
  });

  it.each(['mif1', 'msf1'])('brand %s alone is HEIF', (brand) => {
    expect(sniffImageType(ftyp(brand, [brand]))).toBe('image/heif');
    expect(sniffImageType(ftyp('isom', [brand]))).toBe('image/heif');
  });

  it.each(['avif', 'avis'])('brand %s is AVIF, as major or compatible brand', (brand) => {
    expect(sniffImageType(ftyp(brand, ['mif1', 'miaf']))).toBe('image/avif');
    expect(sniffImageType(ftyp('mif1', ['mif1', brand, 'miaf']))).toBe('image/avif');
    expect(sniffImageType(ftyp('msf1', ['msf1', brand]))).toBe('image/avif');
  });

  it('compatible brands are read only inside the ftyp box', () => {
    const box = ftyp('mif1', ['mif1']);
    // 'avif' right after the box belongs to the next box, not to the brand list.
    const withTrailer = Buffer.concat([box.subarray(0, 20), Buffer.from('avif', 'latin1')]);
    expect(sniffImageType(withTrailer)).toBe('image/heif');
  });

  it('video containers and broken ftyp boxes are not images', () => {
    expect(sniffImageType(ftyp('isom', ['isom', 'iso2', 'mp41']))).toBeUndefined();
    expect(sniffImageType(ftyp('qt  '))).toBeUndefined();
    const tooSmall = ftyp('heic');
    tooSmall.writeUInt32BE(8, 0);
    expect(sniffImageType(tooSmall)).toBeUndefined();
    expect(sniffImageType(ftyp('heic').subarray(0, 12))).toBeUndefined();
  });

  it.each([
    ['an HTML error page', Buffer.from('<!DOCTYPE html><html><body>404 Not Found</body></html>')],
    ['an SVG drawing', Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['a PDF', Buffer.from('%PDF-1.7\n')],
    ['a TIFF', bytes(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0)],
    ['a BMP', Buffer.concat([Buffer.from('BM'), Buffer.alloc(30)])],
    ['an empty buffer', Buffer.alloc(0)],
    ['a 3-byte buffer', bytes(0x89, 0x50, 0x4e)],
    ['a 3-byte JPEG-looking start cut short', bytes(0xff, 0xd8, 0x00)],
    ['RIFF that is not WebP (WAV)', Buffer.from('RIFF\x24\0\0\0WAVEfmt ', 'latin1')],
    ['GIF-like text', Buffer.from('GIF90a')],
  ])('%s is not a known image', (_name, input) => {
    expect(sniffImageType(input)).toBeUndefined();
  });

  it('reads a Uint8Array view with an offset', () => {
    const backing = new Uint8Array([0, 0, 0xff, 0xd8, 0xff, 0xe0]);
    expect(sniffImageType(backing.subarray(2))).toBe('image/jpeg');
  });
});

describe('describeUnknownBytes', () => {
  it.each([
    [Buffer.from('  <!doctype html><title>Sign in</title>'), 'looks like HTML/text'],
    [Buffer.from('\uFEFF<html>'), 'looks like HTML/text'],
    [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'looks like an SVG drawing'],
    [Buffer.from('{"error":{"code":403}}'), 'looks like JSON text'],
    [Buffer.from('%PDF-1.4'), 'looks like a PDF document'],
    [bytes(0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8), 'looks like a TIFF image'],
    [ftyp('isom', ['mp41']), 'brand "isom" that is not HEIC, HEIF or AVIF'],
    [Buffer.alloc(0), 'the file is empty (0 bytes)'],
    [bytes(1, 2, 3), 'unknown type, first bytes 01 02 03 (3 bytes)'],
    [bytes(0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5), 'unknown type, first bytes de ad be ef 00 01 02 03 ... (10 bytes)'],
  ])('%#: %s', (input, expected) => {
    expect(describeUnknownBytes(input)).toContain(expected);
  });

  it('never quotes the text it found', () => {
    const page = Buffer.from('<html><body>token=s3cr3t</body></html>');
    expect(describeUnknownBytes(page)).not.toContain('s3cr3t');
  });
});
