import { describe, expect, it } from 'vitest';
import { renderImage } from '../../../src/emulator/render-image.js';
import { readLabel } from '../../helpers/read-label.js';

describe('the label on emulated images', () => {
  it('is drawn legibly across the top, in capitals, with punctuation', async () => {
    const png = await renderImage({ width: 1024, height: 1024, seedMaterial: 'a', label: 'Linen shirt, sand (SKU-42) & co.' });
    expect(readLabel(png)).toBe('LINEN SHIRT, SAND (SKU-42) & CO.');
  });

  it('wraps words onto two lines of as many characters as the width allows; unknown characters become ?', async () => {
    const narrow = await renderImage({ width: 192, height: 1536, seedMaterial: 'b', label: 'Hero photo of the Aeropress Go coffee maker by Aeropress, matte black' });
    // 192 px at scale 1: (192 - 4) / 6 = 31 cells a line.
    expect(readLabel(narrow)).toBe('HERO PHOTO OF THE AEROPRESS GO COFFEE MAKER BY AEROPRESS,');
    const accents = await renderImage({ width: 512, height: 512, seedMaterial: 'c', label: 'Café crème' });
    expect(readLabel(accents)).toBe('CAF? CR?ME');
  });

  it('is drawn on image-to-image outputs and realistic payloads too, and changes the bytes only with the text', async () => {
    const source = await renderImage({ width: 640, height: 480, seedMaterial: 'source' });
    const copy = await renderImage({ width: 1024, height: 768, seedMaterial: 'd', source, label: 'Wool scarf' });
    expect(readLabel(copy)).toBe('WOOL SCARF');
    const realistic = await renderImage({ width: 1024, height: 1024, seedMaterial: 'e', realistic: true, label: 'Oak desk' });
    expect(readLabel(realistic)).toBe('OAK DESK');
    const again = await renderImage({ width: 1024, height: 1024, seedMaterial: 'e', realistic: true, label: 'Oak desk' });
    expect(again.equals(realistic)).toBe(true);
    const other = await renderImage({ width: 1024, height: 1024, seedMaterial: 'e', realistic: true, label: 'Oak chair' });
    expect(other.equals(realistic)).toBe(false);
    const unlabelled = await renderImage({ width: 1024, height: 1024, seedMaterial: 'e' });
    expect(readLabel(unlabelled)).toBe('');
  });
});
