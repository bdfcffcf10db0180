import type { RequestedGrounding } from './grounding-tools.js';

/**
 * The candidate's `groundingMetadata` for a grounded request, deterministic in the prompt: the
 * searches the model "ran", web sources and (with image search) image sources, the rendered
 * search entry point the API's terms require apps to show, and supports tying the caption to the
 * sources. Every URL is under example.com (reserved; nothing to fetch by accident).
 */
export interface GroundingAnswer {
  metadata: Record<string, unknown>;
  /** Tokens of the search results fed back to the model (usageMetadata.toolUsePromptTokenCount). */
  toolUsePromptTokens: number;
}

const TOKENS_PER_QUERY = 96;

export function groundingMetadataFor(grounding: RequestedGrounding, subject: string, caption: string | undefined): GroundingAnswer {
  const words = subject.split(/\s+/).filter((word) => word.length > 0);
  const query = words.slice(0, 8).join(' ') || 'product';
  const slug = words.slice(0, 6).join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '') || 'product';
  const metadata: Record<string, unknown> = {};
  const chunks: Record<string, unknown>[] = [];
  let queries = 0;
  if (grounding.webSearch) {
    const webQueries = [query, `${query} official product page`];
    metadata['webSearchQueries'] = webQueries;
    queries += webQueries.length;
    chunks.push({ web: { uri: `https://www.example.com/products/${slug}`, title: 'example.com' } });
    chunks.push({ web: { uri: `https://reviews.example.com/${slug}`, title: 'reviews.example.com' } });
    metadata['searchEntryPoint'] = {
      renderedContent: `<style>.container{font-family:sans-serif}</style><div class="container"><a class="chip" href="https://www.example.com/search?q=${encodeURIComponent(query)}">${escapeHtml(query)}</a></div>`,
    };
  }
  if (grounding.imageSearch) {
    const imageQueries = [`${query} product photo`];
    metadata['imageSearchQueries'] = imageQueries;
    queries += imageQueries.length;
    chunks.push({ image: { uri: `https://shop.example.com/p/${slug}`, imageUri: `https://images.example.com/${slug}.jpg` } });
  }
  metadata['groundingChunks'] = chunks;
  if (caption !== undefined && caption.length > 0 && grounding.webSearch) {
    metadata['groundingSupports'] = [{ segment: { startIndex: 0, endIndex: Buffer.byteLength(caption), text: caption }, groundingChunkIndices: [0, 1] }];
  }
  return { metadata, toolUsePromptTokens: queries * TOKENS_PER_QUERY };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
