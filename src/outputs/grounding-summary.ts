import type { GroundingSummary } from '../runs/item-record.js';

/**
 * The manifest's view of a grounded answer: the searches the model ran and the first sources it
 * used. The full groundingMetadata (rendered search entry point, supports, every chunk) is stored
 * beside the item (`grounding.json`), and this summary names where.
 */

const MAX_LISTED = 5;
const MAX_TEXT = 300;

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string').map((entry) => entry.slice(0, MAX_TEXT)) : [];
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function summarizeGrounding(metadata: Record<string, unknown>): GroundingSummary {
  const chunks = Array.isArray(metadata['groundingChunks']) ? metadata['groundingChunks'] : [];
  const sources: GroundingSummary['sources'] = [];
  const imageSources: NonNullable<GroundingSummary['imageSources']> = [];
  for (const chunk of chunks) {
    const web = record(record(chunk)?.['web']);
    const image = record(record(chunk)?.['image']);
    if (web && typeof web['uri'] === 'string') {
      sources.push({ uri: web['uri'].slice(0, MAX_TEXT), ...(typeof web['title'] === 'string' ? { title: web['title'].slice(0, MAX_TEXT) } : {}) });
    } else if (image && typeof image['uri'] === 'string' && typeof image['imageUri'] === 'string') {
      imageSources.push({ uri: image['uri'].slice(0, MAX_TEXT), imageUri: image['imageUri'].slice(0, MAX_TEXT) });
    }
  }
  const summary: GroundingSummary = {
    queries: strings(metadata['webSearchQueries']).slice(0, MAX_LISTED),
    sources: sources.slice(0, MAX_LISTED),
    sourceCount: sources.length + imageSources.length,
  };
  const imageQueries = strings(metadata['imageSearchQueries']).slice(0, MAX_LISTED);
  if (imageQueries.length > 0) summary.imageQueries = imageQueries;
  if (imageSources.length > 0) summary.imageSources = imageSources.slice(0, MAX_LISTED);
  return summary;
}
