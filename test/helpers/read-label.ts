import { PNG } from 'pngjs';
import { FONT_CHARACTERS, GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from '../../src/emulator/bitmap-font.js';
import { CELL_WIDTH, LINE_HEIGHT, MAX_LINES, labelScale } from '../../src/emulator/label-rows.js';

/**
 * Reads the label of an emulated image back, glyph by glyph, from the pixels (lines joined by a
 * space): the check that the label is really drawn and legible at its scale, not just that the
 * renderer was asked for it.
 */
export function readLabel(pngBytes: Buffer): string {
  const png = PNG.sync.read(pngBytes);
  const scale = labelScale(png.width, png.height);
  const margin = 2 * scale;
  const dark = (x: number, y: number) => (png.data[(y * png.width + x) * 4] ?? 255) < 128;
  const byRows = new Map(FONT_CHARACTERS.map((character) => [glyphRows(character).join(','), character]));
  const lines: string[] = [];
  for (let line = 0; line < MAX_LINES; line += 1) {
    let text = '';
    for (let index = 0; margin + (index * CELL_WIDTH + GLYPH_WIDTH) * scale <= png.width; index += 1) {
      const rows: number[] = [];
      for (let row = 0; row < GLYPH_HEIGHT; row += 1) {
        let bits = 0;
        for (let column = 0; column < GLYPH_WIDTH; column += 1) {
          const x = margin + (index * CELL_WIDTH + column) * scale + Math.floor(scale / 2);
          const y = margin + (line * LINE_HEIGHT + row) * scale + Math.floor(scale / 2);
          bits = (bits << 1) | (y < png.height && dark(x, y) ? 1 : 0);
        }
        rows.push(bits);
      }
      const character = byRows.get(rows.join(','));
      if (character === undefined) break;
      text += character;
    }
    if (text.trim() === '') break;
    lines.push(text.trimEnd());
  }
  return lines.join(' ');
}
