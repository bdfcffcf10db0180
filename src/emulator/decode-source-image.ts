import sharp from 'sharp';

/**
 * Decodes the input image that image-to-image output is drawn from, into 8-bit RGB pixels.
 * PNG, JPEG and WebP only, recognised by their bytes (not the declared mime type). HEIC/HEIF
 * stays undecoded on purpose: sharp's prebuilt libvips cannot decode HEVC, and a machine whose
 * libvips could would draw different pixels for the same request. Undecodable or damaged input
 * → undefined, and the caller falls back to the seeded pattern.
 * EXIF orientation is applied (as a viewer would show the image), and sources are shrunk
 * (nearest neighbour) to at most MAX_SOURCE_SIDE px: the output is a nearest-neighbour copy
 * anyway, and a 6000x4000 product photo would otherwise cost 72 MB of raw pixels per request.
 */
export interface DecodedImage {
  width: number;
  height: number;
  /** Packed RGB, `width * height * 3` bytes. */
  data: Buffer;
}

const DECODED_FORMATS = new Set(['png', 'jpeg', 'webp']);
const MAX_SOURCE_SIDE = 1024;

export async function decodeSourceImage(bytes: Buffer): Promise<DecodedImage | undefined> {
  try {
    const { format } = await sharp(bytes).metadata();
    if (format === undefined || !DECODED_FORMATS.has(format)) return undefined;
    const { data, info } = await sharp(bytes)
      .autoOrient()
      .resize({ width: MAX_SOURCE_SIDE, height: MAX_SOURCE_SIDE, fit: 'inside', withoutEnlargement: true, kernel: 'nearest' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) return undefined;
    return { width: info.width, height: info.height, data };
  } catch {
    return undefined;
  }
}
