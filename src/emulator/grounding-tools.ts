import type { ImageModelInfo } from '../gemini/model-catalog.js';
import { GoogleApiError } from './google-error.js';
import { asObject, checkFields, invalid } from './request-checks.js';

/**
 * The request's `tools`, as the image models take them: only Google Search grounding, web search
 * on the models that offer it and image search (`searchTypes.imageSearch`) on Nano Banana 2 only
 * (per the model table). Other tools the API knows are refused for these models; names it does
 * not know get the usual "Unknown name" 400.
 */
export interface RequestedGrounding {
  webSearch: boolean;
  imageSearch: boolean;
}

const TOOL = new Set([
  'googleSearch',
  'googleSearchRetrieval',
  'codeExecution',
  'urlContext',
  'functionDeclarations',
  'fileSearch',
  'googleMaps',
  'computerUse',
  'retrieval',
]);
const GOOGLE_SEARCH = new Set(['searchTypes', 'timeRangeFilter']);
const SEARCH_TYPES = new Set(['webSearch', 'imageSearch']);

export function readGroundingTools(model: ImageModelInfo, raw: unknown): RequestedGrounding | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw invalid("Invalid value at 'tools': expected a list.");
  let grounding: RequestedGrounding | undefined;
  raw.forEach((entry, index) => {
    const where = `tools[${index}]`;
    const tool = asObject(entry, where);
    checkFields(tool, TOOL, where);
    for (const name of Object.keys(tool)) {
      if (name !== 'googleSearch') {
        const snake = name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
        throw invalid(`Tool ${snake} is not supported for this model.`, where);
      }
      const search = asObject(tool[name], `${where}.google_search`);
      checkFields(search, GOOGLE_SEARCH, `${where}.google_search`);
      let webSearch = true;
      let imageSearch = false;
      if (search['searchTypes'] !== undefined) {
        const types = asObject(search['searchTypes'], `${where}.google_search.search_types`);
        checkFields(types, SEARCH_TYPES, `${where}.google_search.search_types`);
        imageSearch = types['imageSearch'] !== undefined;
        // Naming only imageSearch asks for image results alone.
        webSearch = types['webSearch'] !== undefined || !imageSearch;
      }
      if (!model.grounding.webSearch) throw notSupported('Search Grounding is not supported for this model.');
      if (imageSearch && !model.grounding.imageSearch) throw notSupported('Image Search is not supported for this model.');
      grounding = { webSearch: (grounding?.webSearch ?? false) || webSearch, imageSearch: (grounding?.imageSearch ?? false) || imageSearch };
    }
  });
  return grounding;
}

function notSupported(message: string): GoogleApiError {
  return new GoogleApiError(400, 'INVALID_ARGUMENT', message);
}
