import { describe, expect, it } from 'vitest';
import { IMAGE_MODELS } from '../../../src/gemini/model-catalog.js';
import { runCli } from '../../helpers/run-cli.js';

/** `bunch models` prints the model table jobs are validated and priced against. */
describe('bunch models', () => {
  it('--json lists every model of the table with its capabilities, limits and prices', async () => {
    const result = await runCli(['models', '--json']);
    expect(result.code).toBe(0);
    const models = JSON.parse(result.stdout) as { id: string; pixels: Record<string, Record<string, [number, number]>> }[];
    expect(models.map((model) => model.id)).toEqual(['gemini-3.1-flash-image-preview', 'gemini-3-pro-image-preview', 'gemini-2.5-flash-image']);
    const { pixels, aspectRatios: _ratios, ...flash } = models[0] as unknown as Record<string, unknown> & { pixels: Record<string, Record<string, [number, number]>> };
    expect(flash).toEqual({
      id: 'gemini-3.1-flash-image-preview',
      displayName: 'Nano Banana 2',
      imageSizes: ['512', '1K', '2K', '4K'],
      imageTokens: { '512': 747, '1K': 1120, '2K': 1680, '4K': 2520 },
      inputImageTokens: 1120,
      pricing: { usdPerMillionImageTokens: 60, usdPerMillionTextTokens: 3, usdPerMillionInputTokens: 0.5, batchDiscount: 0.5 },
      thinking: true,
      thinkingLevels: ['MINIMAL', 'HIGH'],
      grounding: { webSearch: true, imageSearch: true },
      batch: true,
      inputTokenLimit: 131072,
      outputTokenLimit: 32768,
      maxReferenceImages: 14,
      maxObjectImages: 10,
      maxCharacterImages: 4,
    });
    expect(pixels['16:9']?.['2K']).toEqual([2752, 1536]);
    expect(pixels['1:8']?.['512']).toEqual([192, 1536]);
    expect(models).toHaveLength(Object.keys(IMAGE_MODELS).length);
  });

  it('prints the same table for people', async () => {
    const result = await runCli(['models']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('gemini-3.1-flash-image-preview — Nano Banana 2');
    expect(lines).toContain('  price per image    512 747 tokens $0.04482 (batch $0.02241); 1K 1120 tokens $0.0672 (batch $0.0336); 2K 1680 tokens $0.1008 (batch $0.0504); 4K 2520 tokens $0.1512 (batch $0.0756)');
    expect(lines).toContain('  search grounding   web and image');
    expect(lines).toContain('gemini-2.5-flash-image — Nano Banana');
  });
});
