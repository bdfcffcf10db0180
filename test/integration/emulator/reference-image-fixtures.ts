import { PNG } from 'pngjs';
import sharp from 'sharp';

/**
 * Input images for the reference-image tests (solid colours in PNG, JPEG or WebP, made with
 * sharp) and a reader for the emulator's output PNG. A solid source gives a solid output:
 * every pixel is round((3 * source + tint) / 4) for one prompt-derived tint.
 */
export type Rgb = { r: number; g: number; b: number };

export const RED: Rgb = { r: 255, g: 0, b: 0 };
export const BLUE: Rgb = { r: 0, g: 0, b: 255 };
export const GREEN: Rgb = { r: 0, g: 255, b: 0 };

export async function solidImage(format: 'png' | 'jpeg' | 'webp', colour: Rgb, width = 32, height = 32): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: colour } });
  return format === 'png' ? image.png().toBuffer() : format === 'jpeg' ? image.jpeg({ quality: 95 }).toBuffer() : image.webp({ lossless: true }).toBuffer();
}

export interface OutputImage {
  width: number;
  height: number;
  /** The colour when every pixel has the same one, else undefined. */
  solid: Rgb | undefined;
}

export function readOutput(base64: string): OutputImage {
  const png = PNG.sync.read(Buffer.from(base64, 'base64'));
  // The picture below the label band (the emulator writes the prompt across the top): the lower half.
  const start = Math.floor(png.height / 2) * png.width * 4;
  const first = { r: png.data[start] ?? 0, g: png.data[start + 1] ?? 0, b: png.data[start + 2] ?? 0 };
  let solid: Rgb | undefined = first;
  for (let offset = start; offset < png.data.length; offset += 4) {
    if (png.data[offset] !== first.r || png.data[offset + 1] !== first.g || png.data[offset + 2] !== first.b) {
      solid = undefined;
      break;
    }
  }
  return { width: png.width, height: png.height, solid };
}

/** The base64 image of a GenerateContentResponse (SDK object or parsed JSON). */
export function imageDataOf(response: unknown): string {
  const parts = (response as { candidates?: { content?: { parts?: { inlineData?: { data?: string } }[] } }[] }).candidates?.[0]?.content?.parts ?? [];
  const data = parts.find((part) => part.inlineData?.data !== undefined)?.inlineData?.data;
  if (data === undefined) throw new Error(`no image in response: ${JSON.stringify(response).slice(0, 300)}`);
  return data;
}
