/**
 * What bunch knows about each Gemini image model: allowed aspect ratios and sizes, the pixel size
 * of an output image, how many output tokens an image costs, and how many reference images a
 * request may carry. Source: the image-generation documentation (see shared reference,
 * "imageConfig values" and "Reference images"). Both the job-file validator and the
 * emulator read this table, so a request bunch accepts is one the API accepts.
 */
export type ImageSize = '512' | '1K' | '2K' | '4K';

export interface ImageModelInfo {
  id: string;
  displayName: string;
  imageSizes: readonly ImageSize[];
  aspectRatios: readonly string[];
  /** Output tokens billed per generated image, by size. */
  imageTokens: Partial<Record<ImageSize, number>>;
  /** USD per million output image tokens (standard tier; batch is half). */
  usdPerMillionImageTokens: number;
  thinking: boolean;
  /** Token limits as models.get reports them (the emulator serves them; bunch does not enforce them). */
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
const GEMINI_3_PIXELS: Record<string, [number, number][]> = {
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
const GEMINI_25_PIXELS: Record<string, [number, number]> = {
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

export const IMAGE_MODELS: Readonly<Record<string, ImageModelInfo>> = Object.freeze({
  'gemini-3.1-flash-image-preview': {
    id: 'gemini-3.1-flash-image-preview',
    displayName: 'Nano Banana 2',
    imageSizes: ['512', '1K', '2K', '4K'],
    aspectRatios: FLASH_31_RATIOS,
    imageTokens: { '512': 747, '1K': 1120, '2K': 1680, '4K': 2520 },
    usdPerMillionImageTokens: 60,
    thinking: true,
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
    imageTokens: { '1K': 1120, '2K': 1120, '4K': 2000 },
    usdPerMillionImageTokens: 120,
    thinking: true,
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
    imageTokens: { '1K': 1290 },
    usdPerMillionImageTokens: 30,
    thinking: false,
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
  if (model.id === 'gemini-2.5-flash-image') {
    const dims = GEMINI_25_PIXELS[aspectRatio];
    return dims ? { width: dims[0], height: dims[1] } : undefined;
  }
  const dims = GEMINI_3_PIXELS[aspectRatio]?.[SIZE_INDEX[imageSize]];
  return dims ? { width: dims[0], height: dims[1] } : undefined;
}
