/**
 * What a reference image is, decided from its first bytes only. Servers and object stores often
 * label files wrongly (`application/octet-stream`, `image/jpeg` on a PNG, `text/html` on a 404
 * page answered with 200), so the Content-Type header and the file extension are never trusted.
 */
export type SniffedImageType =
  | 'image/png'
  | 'image/jpeg'
  | 'image/webp'
  | 'image/heic'
  | 'image/heif'
  | 'image/gif'
  | 'image/avif';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** ISO-BMFF brands (ISO/IEC 23008-12, AV1-ISOBMFF) that say what an image file holds. */
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx']);
const HEIF_BRANDS = new Set(['mif1', 'msf1']);

export function sniffImageType(bytes: Uint8Array): SniffedImageType | undefined {
  if (startsWith(bytes, 0, PNG_SIGNATURE)) return 'image/png';
  if (startsWith(bytes, 0, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'image/webp';
  const gif = ascii(bytes, 0, 6);
  if (gif === 'GIF87a' || gif === 'GIF89a') return 'image/gif';
  return sniffIsoBmff(bytes);
}

/**
 * HEIC, HEIF and AVIF share one container: a leading `ftyp` box with a major brand and a list of
 * compatible brands. The major brand decides when it is an image brand; otherwise the compatible
 * brands do, AVIF first (an AVIF file also lists the generic `mif1`), then HEVC, then plain HEIF.
 * Video brands (`isom`, `mp42`, `qt  `) are not images.
 */
function sniffIsoBmff(bytes: Uint8Array): SniffedImageType | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const declaredSize = readUInt32BE(bytes, 0);
  // Size 0 means "to the end of the file"; size 1 (a 64-bit size) is not used for `ftyp` in practice.
  const boxEnd = declaredSize === 0 ? bytes.length : Math.min(declaredSize, bytes.length);
  if (declaredSize !== 0 && declaredSize < 16) return undefined;

  const major = ascii(bytes, 8, 12);
  const fromMajor = imageTypeOfBrand(major);
  if (fromMajor !== undefined) return fromMajor;

  const compatible: string[] = [];
  // Bytes 12..16 are the minor version; compatible brands follow, four bytes each.
  for (let offset = 16; offset + 4 <= boxEnd; offset += 4) compatible.push(ascii(bytes, offset, offset + 4));
  if (compatible.some((brand) => AVIF_BRANDS.has(brand))) return 'image/avif';
  if (compatible.some((brand) => HEIC_BRANDS.has(brand))) return 'image/heic';
  if (compatible.some((brand) => HEIF_BRANDS.has(brand))) return 'image/heif';
  return undefined;
}

function imageTypeOfBrand(brand: string): SniffedImageType | undefined {
  if (AVIF_BRANDS.has(brand)) return 'image/avif';
  if (HEIC_BRANDS.has(brand)) return 'image/heic';
  // A `mif1` major brand says little: an AVIF or HEVC brand among the compatible ones decides.
  return undefined;
}

function startsWith(bytes: Uint8Array, offset: number, expected: readonly number[]): boolean {
  if (bytes.length < offset + expected.length) return false;
  return expected.every((value, index) => bytes[offset + index] === value);
}

/** Latin-1 text of bytes[start, end), or '' when the buffer is shorter than that. */
function ascii(bytes: Uint8Array, start: number, end: number): string {
  if (bytes.length < end) return '';
  return String.fromCharCode(...bytes.subarray(start, end));
}

function readUInt32BE(bytes: Uint8Array, offset: number): number {
  return (((bytes[offset] ?? 0) << 24) >>> 0) + ((bytes[offset + 1] ?? 0) << 16) + ((bytes[offset + 2] ?? 0) << 8) + (bytes[offset + 3] ?? 0);
}

/**
 * A short, operator-readable guess at what bytes that are not an accepted image are, for error
 * messages. Never quotes the content itself (an error page may echo a signed URL); at most the
 * first eight bytes in hex.
 */
export function describeUnknownBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty (0 bytes)';
  const text = ascii(bytes, 0, Math.min(bytes.length, 64)).replace(/^\uFEFF|^\u00EF\u00BB\u00BF/, '').trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) return 'looks like an SVG drawing (vector images are not accepted)';
  if (text.startsWith('<')) return 'looks like HTML/text (often an error or login page served instead of the image)';
  if (text.startsWith('{') || text.startsWith('[')) return 'looks like JSON text (often an API error answer)';
  if (text.startsWith('%pdf-')) return 'looks like a PDF document';
  if (startsWith(bytes, 0, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, 0, [0x4d, 0x4d, 0x00, 0x2a])) return 'looks like a TIFF image';
  if (ascii(bytes, 0, 2) === 'BM' && bytes.length >= 14 && readUInt32BE(bytes, 6) === 0) return 'looks like a BMP image';
  if (ascii(bytes, 4, 8) === 'ftyp') return `an ISO-BMFF file with brand "${ascii(bytes, 8, 12).replace(/[^\x20-\x7e]/g, '?')}" that is not HEIC, HEIF or AVIF`;
  const hex = [...bytes.subarray(0, 8)].map((value) => value.toString(16).padStart(2, '0')).join(' ');
  return `unknown type, first bytes ${hex}${bytes.length > 8 ? ' ...' : ''} (${bytes.length} bytes)`;
}
