/**
 * What bunch knows about each Gemini image model, as data: adding a model is one entry in
 * IMAGE_MODELS (it may reuse a shared pixel table). Allowed aspect ratios and sizes, the pixel
 * size of an output image, tokens per output and input image, reference limits by role, thinking
 * levels, search grounding, batch support, token limits and prices. Source: the image-generation
 * and pricing documentation (see the shared reference, "imageConfig values", "Reference images",
 * "Pricing facts"). The job-file validator, the cost accounting, `bunch models` and the emulator
 * all read this table, so a request bunch accepts is one the API accepts.
 */
export type ImageSize = '512' | '1K' | '2K' | '4K';
export type ModelThinkingLevel = 'MINIMAL' | 'LOW' | 'MEDIUM' | 'HIGH';

/** Width × height of one output image, per aspect ratio and size class. */
export type PixelTable = Readonly<Record<string, Partial<Record<ImageSize, readonly [number, number]>>>>;

export interface ModelPricing {
  /** USD per million output image tokens, standard tier. */
  usdPerMillionImageTokens: number;
  /** USD per million output text and thinking tokens, standard tier (thoughts are billed at this rate). */
  usdPerMillionTextTokens: number;
  /** USD per million input tokens (text and images), standard tier. */
  usdPerMillionInputTokens: number;
  /** Fraction the Batch API takes off every rate (0.5 today). */
  batchDiscount: number;
}

export interface ImageModelInfo {
  id: string;
  displayName: string;
  imageSizes: readonly ImageSize[];
  aspectRatios: readonly string[];
  pixels: PixelTable;
  /** Output tokens billed per generated image, by size. */
  imageTokens: Partial<Record<ImageSize, number>>;
  /** Input tokens one reference image costs (Gemini 3: 1120 at the default high media resolution; 2.5: 258 per tile). */
  inputImageTokens: number;
  pricing: ModelPricing;
  /** Whether the model thinks (accepts thinkingConfig); Gemini 3 image models always do. */
  thinking: boolean;
  /** The thinkingLevel values it accepts (empty when it does not think). */
  thinkingLevels: readonly ModelThinkingLevel[];
  /** Google Search grounding: web results, and image search (3.1 Flash Image only). */
  grounding: { webSearch: boolean; imageSearch: boolean };
  /** Served by the Batch API. */
  batch: boolean;
  /** Token limits as models.get reports them; bunch rejects rows whose request would exceed the input limit. */
  inputTokenLimit: number;
  outputTokenLimit: number;
  /**
   * Most input (reference) images one request may carry, inline and by file together. The
   * emulator rejects more with 400 INVALID_ARGUMENT. 2.5 Flash Image has no documented hard cap
   * (it "works best with up to 3"); 14, the family's documented maximum, is used.
   */
  maxReferenceImages: number;
  /**
   * Documented per-role caps (high-fidelity object images, character-consistency images). The
   * wire has no role field, so only `maxReferenceImages` is enforceable; these guide callers.
   * 2.5 Flash Image documents no split: both are set to its recommended 3.
   */
  maxObjectImages?: number;
  maxCharacterImages?: number;
}

const COMMON_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'] as const;
const FLASH_31_RATIOS = [...COMMON_RATIOS, '1:4', '4:1', '1:8', '8:1'] as const;

/** Width x height per aspect ratio for the 512 / 1K / 2K / 4K sizes of the Gemini 3 image models. */
const GEMINI_3_SIZES: Record<string, [number, number][]> = {
  '1:1': [[512, 512], [1024, 1024], [2048, 2048], [4096, 4096]],
  '16:9': [[688, 384], [1376, 768], [2752, 1536], [5504, 3072]],
  '9:16': [[384, 688], [768, 1376], [1536, 2752], [3072, 5504]],
  '4:3': [[600, 448], [1200, 896], [2400, 1792], [4800, 3584]],
  '3:4': [[448, 600], [896, 1200], [1792, 2400], [3584, 4800]],
  '3:2': [[632, 424], [1264, 848], [2528, 1696], [5056, 3392]],
  '2:3': [[424, 632], [848, 1264], [1696, 2528], [3392, 5056]],
  '4:5': [[464, 576], [928, 1152], [1856, 2304], [3712, 4608]],
  '5:4': [[576, 464], [1152, 928], [2304, 1856], [4608, 3712]],
  // The docs print 792x168 for 21:9 at 512, which cannot be 21:9; half of 1K (1584x672) is used instead.
  '21:9': [[792, 336], [1584, 672], [3168, 1344], [6336, 2688]],
  '1:4': [[256, 1024], [512, 2048], [1024, 4096], [2048, 8192]],
  '4:1': [[1024, 256], [2048, 512], [4096, 1024], [8192, 2048]],
  '1:8': [[192, 1536], [384, 3072], [768, 6144], [1536, 12288]],
  '8:1': [[1536, 192], [3072, 384], [6144, 768], [12288, 1536]],
};

/** Gemini 2.5 Flash Image produces one size class only. */
const GEMINI_25_SIZES: Record<string, [number, number]> = {
  '1:1': [1024, 1024],
  '2:3': [832, 1248],
  '3:2': [1248, 832],
  '3:4': [864, 1184],
  '4:3': [1184, 864],
  '4:5': [896, 1152],
  '5:4': [1152, 896],
  '9:16': [768, 1344],
  '16:9': [1344, 768],
  '21:9': [1536, 672],
};

const SIZE_INDEX: Record<ImageSize, number> = { '512': 0, '1K': 1, '2K': 2, '4K': 3 };
const SIZE_ORDER: readonly ImageSize[] = ['512', '1K', '2K', '4K'];

const GEMINI_3_PIXELS: PixelTable = Object.fromEntries(
  Object.entries(GEMINI_3_SIZES).map(([ratio, sizes]) => [ratio, Object.fromEntries(sizes.map((dims, i) => [SIZE_ORDER[i], dims]))]),
);
const GEMINI_25_PIXELS: PixelTable = Object.fromEntries(Object.entries(GEMINI_25_SIZES).map(([ratio, dims]) => [ratio, { '1K': dims }]));

export const IMAGE_MODELS: Readonly<Record<string, ImageModelInfo>> = Object.freeze({
  'gemini-3.1-flash-image-preview': {
    id: 'gemini-3.1-flash-image-preview',
    displayName: 'Nano Banana 2',
    imageSizes: ['512', '1K', '2K', '4K'],
    aspectRatios: FLASH_31_RATIOS,
    pixels: GEMINI_3_PIXELS,
    imageTokens: { '512': 747, '1K': 1120, '2K': 1680, '4K': 2520 },
    inputImageTokens: 1120,
    pricing: { usdPerMillionImageTokens: 60, usdPerMillionTextTokens: 3, usdPerMillionInputTokens: 0.5, batchDiscount: 0.5 },
    thinking: true,
    thinkingLevels: ['MINIMAL', 'HIGH'],
    grounding: { webSearch: true, imageSearch: true },
    batch: true,
    inputTokenLimit: 131_072,
    outputTokenLimit: 32_768,
    maxReferenceImages: 14,
    maxObjectImages: 10,
    maxCharacterImages: 4,
  },
  'gemini-3-pro-image-preview': {
    id: 'gemini-3-pro-image-preview',
    displayName: 'Nano Banana Pro',
    imageSizes: ['1K', '2K', '4K'],
    aspectRatios: COMMON_RATIOS,
    pixels: GEMINI_3_PIXELS,
    imageTokens: { '1K': 1120, '2K': 1120, '4K': 2000 },
    inputImageTokens: 1120,
    pricing: { usdPerMillionImageTokens: 120, usdPerMillionTextTokens: 12, usdPerMillionInputTokens: 2, batchDiscount: 0.5 },
    thinking: true,
    thinkingLevels: ['LOW', 'HIGH'],
    grounding: { webSearch: true, imageSearch: false },
    batch: true,
    inputTokenLimit: 65_536,
    outputTokenLimit: 32_768,
    maxReferenceImages: 14,
    maxObjectImages: 6,
    maxCharacterImages: 5,
  },
  'gemini-2.5-flash-image': {
    id: 'gemini-2.5-flash-image',
    displayName: 'Nano Banana',
    imageSizes: ['1K'],
    aspectRatios: COMMON_RATIOS,
    pixels: GEMINI_25_PIXELS,
    imageTokens: { '1K': 1290 },
    inputImageTokens: 258,
    pricing: { usdPerMillionImageTokens: 30, usdPerMillionTextTokens: 2.5, usdPerMillionInputTokens: 0.3, batchDiscount: 0.5 },
    thinking: false,
    thinkingLevels: [],
    grounding: { webSearch: false, imageSearch: false },
    batch: true,
    inputTokenLimit: 32_768,
    outputTokenLimit: 32_768,
    maxReferenceImages: 14,
    maxObjectImages: 3,
    maxCharacterImages: 3,
  },
});

export const DEFAULT_IMAGE_SIZE: ImageSize = '1K';
export const DEFAULT_ASPECT_RATIO = '1:1';

/** Accepts `gemini-x`, `models/gemini-x`. Returns undefined for unknown models. */
export function findImageModel(model: string): ImageModelInfo | undefined {
  const id = model.startsWith('models/') ? model.slice('models/'.length) : model;
  return Object.hasOwn(IMAGE_MODELS, id) ? IMAGE_MODELS[id] : undefined;
}

export function isImageSize(value: string): value is ImageSize {
  return Object.hasOwn(SIZE_INDEX, value);
}

/** Pixel size of one output image, or undefined when the model does not offer that ratio/size. */
export function outputPixels(
  model: ImageModelInfo,
  aspectRatio: string = DEFAULT_ASPECT_RATIO,
  imageSize: ImageSize = DEFAULT_IMAGE_SIZE,
): { width: number; height: number } | undefined {
  if (!model.aspectRatios.includes(aspectRatio) || !model.imageSizes.includes(imageSize)) return undefined;
  const dims = model.pixels[aspectRatio]?.[imageSize];
  return dims ? { width: dims[0], height: dims[1] } : undefined;
}
