import { GLYPH_HEIGHT, GLYPH_WIDTH, drawableCharacter, glyphRows } from './bitmap-font.js';

/**
 * The label band across the top of an emulated image: dark text on a light strip, the bitmap
 * font scaled to the image (one font pixel = `scale` image pixels, 1/128 of the shorter side, so
 * it stays legible in a gallery thumbnail), word-wrapped onto at most two lines. A gallery of an
 * emulated run then shows which product each tile was meant to be, and a mix-up is visible.
 */
export interface LabelBand {
  lines: string[];
  scale: number;
  /** Rows 0..height-1 belong to the band. */
  height: number;
  /**
   * The band's pixels of one row (RGB) with a key that is equal for equal rows (and below -8,
   * apart from any picture row's key), or undefined below the band.
   */
  row(y: number): { key: number; bytes: Buffer } | undefined;
}

/** Each character takes its glyph plus one column of space; each line its glyphs plus one row. */
export const CELL_WIDTH = GLYPH_WIDTH + 1;
export const LINE_HEIGHT = GLYPH_HEIGHT + 1;
export const MAX_LINES = 2;
const INK = 24;
const PAPER = 244;

export function labelScale(width: number, height: number): number {
  return Math.max(1, Math.floor(Math.min(width, height) / 128));
}

export function labelBand(text: string, width: number, height: number): LabelBand | undefined {
  const scale = labelScale(width, height);
  const margin = 2 * scale;
  const capacity = Math.floor((width - 2 * margin) / (CELL_WIDTH * scale));
  const lines = wrap([...text.trim().replace(/\s+/g, ' ')].map(drawableCharacter).join(''), capacity);
  const bandHeight = 2 * margin + lines.length * LINE_HEIGHT * scale - scale;
  if (lines.length === 0 || bandHeight > height) return undefined;
  const rows = new Map<number, Buffer>();
  return {
    lines,
    scale,
    height: bandHeight,
    row(y) {
      if (y < 0 || y >= bandHeight) return undefined;
      const fontRow = Math.floor((y - margin) / scale);
      const line = Math.floor(fontRow / LINE_HEIGHT);
      const glyphRow = fontRow - line * LINE_HEIGHT;
      const key = y >= margin && line < lines.length && glyphRow < GLYPH_HEIGHT ? line * LINE_HEIGHT + glyphRow : -1;
      let bytes = rows.get(key);
      if (!bytes) {
        bytes = Buffer.alloc(width * 3, PAPER);
        if (key >= 0) drawGlyphRow(bytes, lines[line] ?? '', glyphRow, margin, scale, width);
        rows.set(key, bytes);
      }
      return { key: -10 - key, bytes };
    },
  };
}

function drawGlyphRow(bytes: Buffer, line: string, glyphRow: number, margin: number, scale: number, width: number): void {
  [...line].forEach((character, index) => {
    const bits = glyphRows(character)[glyphRow] ?? 0;
    for (let column = 0; column < GLYPH_WIDTH; column += 1) {
      if ((bits & (1 << (GLYPH_WIDTH - 1 - column))) === 0) continue;
      const x0 = margin + (index * CELL_WIDTH + column) * scale;
      bytes.fill(INK, x0 * 3, Math.min(width, x0 + scale) * 3);
    }
  });
}

/** Greedy word wrap onto MAX_LINES lines of `capacity` cells; a word longer than a line is cut. */
function wrap(text: string, capacity: number): string[] {
  if (capacity <= 0) return [];
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ').filter((entry) => entry.length > 0)) {
    const candidate = current === '' ? word : `${current} ${word}`;
    if (candidate.length <= capacity) {
      current = candidate;
      continue;
    }
    if (current !== '') lines.push(current);
    if (lines.length === MAX_LINES) return lines;
    current = word.slice(0, capacity);
  }
  if (current !== '' && lines.length < MAX_LINES) lines.push(current);
  return lines;
}
