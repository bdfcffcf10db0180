import { createHash } from 'node:crypto';
import { DEFAULT_IMAGE_SIZE, findImageModel, type ImageModelInfo, type ImageSize } from '../gemini/model-catalog.js';
import { GoogleApiError } from './google-error.js';
import { measureInputImage, unprocessableImage, type ImagePart } from './input-image.js';
import { normalizeKeys } from './normalize-request.js';
import { asObject, checkFields, invalid } from './request-checks.js';
import { checkThoughtSignatures, type EchoedModelPart } from './thought-signatures.js';
import { readGroundingTools, type RequestedGrounding } from './grounding-tools.js';

/**
 * Validates a GenerateContentRequest the way generativelanguage.googleapis.com does for the image
 * models: proto field names (camelCase or snake_case), enums case-insensitive, unknown fields
 * rejected with the API's "Invalid JSON payload received. Unknown name ..." message, imageConfig
 * checked against the model catalog, inline images checked to be base64 of a real image.
 * Pure: fileData URIs are only collected here; prepare-generate-request.ts follows them, checks
 * the reference-image limit and picks the default aspect ratio from the first input image.
 */
export interface ParsedGenerateRequest {
  model: ImageModelInfo;
  /** The request's `imageConfig.aspectRatio`, if it set one. */
  requestedAspectRatio: string | undefined;
  imageSize: ImageSize;
  wantImage: boolean;
  wantText: boolean;
  includeThoughts: boolean;
  /** Text of the user's parts, joined by newlines (trigger phrases included). */
  promptText: string;
  systemText: string;
  /** Every inlineData and fileData part, in order, whatever the turn's role. */
  imageParts: ImagePart[];
  seed: number | undefined;
  /** Stable id of the prompt, see `promptHashOf`. */
  promptHash: string;
  /** `tools: [{googleSearch}]`, checked against the model's grounding support. */
  grounding: RequestedGrounding | undefined;
  /** `responseJsonSchema` with `responseMimeType: application/json`: the text answer is JSON of this shape. */
  jsonSchema: Record<string, unknown> | undefined;
  /** How many contents (turns) the request has: 1, or more for a multi-turn edit. */
  turns: number;
  /** Thought signatures sent back on earlier model turns, all checked to be the ones issued. */
  echoedSignatures: number;
}

const TOP_LEVEL = new Set([
  'model',
  'contents',
  'systemInstruction',
  'tools',
  'toolConfig',
  'safetySettings',
  'generationConfig',
  'cachedContent',
  'serviceTier',
]);
const GENERATION_CONFIG = new Set([
  'stopSequences',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  '_responseJsonSchema',
  'responseModalities',
  'candidateCount',
  'maxOutputTokens',
  'temperature',
  'topP',
  'topK',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'responseLogprobs',
  'logprobs',
  'enableEnhancedCivicAnswers',
  'speechConfig',
  'thinkingConfig',
  'imageConfig',
  'mediaResolution',
]);
const IMAGE_CONFIG = new Set(['aspectRatio', 'imageSize']);
const THINKING_CONFIG = new Set(['includeThoughts', 'thinkingBudget', 'thinkingLevel']);
const CONTENT = new Set(['role', 'parts']);
const PART = new Set([
  'text',
  'inlineData',
  'fileData',
  'thought',
  'thoughtSignature',
  'functionCall',
  'functionResponse',
  'executableCode',
  'codeExecutionResult',
  'videoMetadata',
  'mediaResolution',
  'partMetadata',
]);
const BLOB = new Set(['mimeType', 'data']);
const FILE_DATA = new Set(['mimeType', 'fileUri']);
const MODALITIES = new Set(['MODALITY_UNSPECIFIED', 'TEXT', 'IMAGE', 'AUDIO']);
const THINKING_LEVELS = new Set(['THINKING_LEVEL_UNSPECIFIED', 'MINIMAL', 'LOW', 'MEDIUM', 'HIGH']);
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** Stable 16-hex-digit id of a prompt text; the request log counts generations per prompt hash. */
export function promptHashOf(promptText: string): string {
  return createHash('sha256').update(promptText).digest('hex').slice(0, 16);
}

/** The API's 404 for a model it does not have; `method` is the RPC that was called (generateContent, GetModel, ...). */
export function modelNotFound(model: string, apiVersion = 'v1beta', method = 'generateContent'): GoogleApiError {
  return new GoogleApiError(
    404,
    'NOT_FOUND',
    `models/${model} is not found for API version ${apiVersion}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  );
}

export function validateGenerateRequest(modelName: string, raw: unknown, apiVersion = 'v1beta'): ParsedGenerateRequest {
  const id = modelName.startsWith('models/') ? modelName.slice('models/'.length) : modelName;
  const model = findImageModel(id);
  if (!model) throw modelNotFound(id, apiVersion);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid('Invalid JSON payload received. Expected an object.');
  }
  const body = normalizeKeys(raw) as Record<string, unknown>;
  checkFields(body, TOP_LEVEL, '');

  const contents = body['contents'];
  if (!Array.isArray(contents) || contents.length === 0) {
    throw invalid('* GenerateContentRequest.contents: contents is not specified\n');
  }
  const texts: string[] = [];
  const imageParts: ImagePart[] = [];
  const modelTurns: EchoedModelPart[][] = [];
  contents.forEach((content, contentIndex) => {
    const where = `contents[${contentIndex}]`;
    const object = asObject(content, where);
    checkFields(object, CONTENT, where);
    const parts = object['parts'];
    if (!Array.isArray(parts) || parts.length === 0) {
      throw invalid(`* GenerateContentRequest.${where}.parts: contents.parts must not be empty.\n`);
    }
    const isModel = object['role'] === 'model';
    const echoed: EchoedModelPart[] = [];
    parts.forEach((part, partIndex) => {
      const partWhere = `${where}.parts[${partIndex}]`;
      const partObject = asObject(part, partWhere);
      checkFields(partObject, PART, partWhere);
      const isThought = partObject['thought'] === true;
      const rawSignature = partObject['thoughtSignature'];
      const signature = typeof rawSignature === 'string' && rawSignature !== '' ? rawSignature : undefined;
      const echo = (signed: EchoedModelPart['content']): void => {
        if (isModel && !isThought) echoed.push({ contentIndex, partIndex, content: signed, signature });
      };
      if (typeof partObject['text'] === 'string') {
        if (!isThought && !isModel) texts.push(partObject['text']);
        echo({ kind: 'text', text: partObject['text'] });
      }
      if (partObject['inlineData'] !== undefined) {
        const image = readInlineImage(asObject(partObject['inlineData'], `${partWhere}.inline_data`), `${partWhere}.inline_data`);
        imageParts.push(image);
        if (image.via === 'inline') echo({ kind: 'image', bytes: image.bytes });
      }
      if (partObject['fileData'] !== undefined) {
        const fileData = asObject(partObject['fileData'], `${partWhere}.file_data`);
        checkFields(fileData, FILE_DATA, `${partWhere}.file_data`);
        if (typeof fileData['fileUri'] !== 'string' || fileData['fileUri'] === '') {
          throw invalid(`* GenerateContentRequest.${partWhere}.file_data.file_uri: file_uri must be set.\n`);
        }
        const mimeType = fileData['mimeType'];
        imageParts.push({ via: 'file', mimeType: typeof mimeType === 'string' && mimeType !== '' ? mimeType : undefined, fileUri: fileData['fileUri'] });
        echo({ kind: 'file', uri: fileData['fileUri'] });
      }
    });
    if (isModel) modelTurns.push(echoed);
  });
  const echoedSignatures = checkThoughtSignatures(model.thinking, modelTurns);

  const systemTexts: string[] = [];
  if (body['systemInstruction'] !== undefined) {
    const system = asObject(body['systemInstruction'], 'system_instruction');
    checkFields(system, CONTENT, 'system_instruction');
    for (const part of Array.isArray(system['parts']) ? system['parts'] : []) {
      const text = (part as Record<string, unknown> | null)?.['text'];
      if (typeof text === 'string') systemTexts.push(text);
    }
  }

  const grounding = readGroundingTools(model, body['tools']);

  const config = body['generationConfig'] === undefined ? {} : asObject(body['generationConfig'], 'generation_config');
  checkFields(config, GENERATION_CONFIG, 'generation_config');
  const jsonSchema = readJsonSchema(config);

  const modalities = readModalities(config['responseModalities']);
  const imageConfig = config['imageConfig'] === undefined ? {} : asObject(config['imageConfig'], 'generation_config.image_config');
  checkFields(imageConfig, IMAGE_CONFIG, 'generation_config.image_config');
  const imageSize = readImageSize(model, imageConfig['imageSize']);
  const requestedAspectRatio = readAspectRatio(model, imageConfig['aspectRatio']);

  let includeThoughts = false;
  if (config['thinkingConfig'] !== undefined) {
    if (!model.thinking) throw invalid('Thinking is not supported for this model.');
    const thinking = asObject(config['thinkingConfig'], 'generation_config.thinking_config');
    checkFields(thinking, THINKING_CONFIG, 'generation_config.thinking_config');
    includeThoughts = thinking['includeThoughts'] === true;
    const level = thinking['thinkingLevel'];
    if (level !== undefined && (typeof level !== 'string' || !THINKING_LEVELS.has(level.toUpperCase()))) {
      throw invalidEnum('generation_config.thinking_config.thinking_level', 'GenerationConfig.ThinkingConfig.ThinkingLevel', level);
    }
  }

  const seed = config['seed'];
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed))) {
    throw invalid(`Invalid value at 'generation_config.seed' (TYPE_INT32), ${JSON.stringify(seed)}`);
  }

  const promptText = texts.join('\n');
  return {
    model,
    requestedAspectRatio,
    imageSize,
    wantImage: modalities.has('IMAGE'),
    wantText: modalities.has('TEXT'),
    includeThoughts,
    promptText,
    systemText: systemTexts.join('\n'),
    imageParts,
    seed,
    promptHash: promptHashOf(promptText),
    grounding,
    jsonSchema,
    turns: contents.length,
    echoedSignatures,
  };
}

const MIME_TYPES = new Set(['text/plain', 'application/json', 'text/x.enum']);

/** `responseJsonSchema` (or its underscore twin) needs `responseMimeType: application/json`. */
function readJsonSchema(config: Record<string, unknown>): Record<string, unknown> | undefined {
  const mimeType = config['responseMimeType'];
  if (mimeType !== undefined && (typeof mimeType !== 'string' || !MIME_TYPES.has(mimeType))) {
    throw invalid(
      `* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are \`text/plain\`, \`application/json\`, \`text/x.enum\`.\n`,
      'generation_config.response_mime_type',
    );
  }
  const raw = config['responseJsonSchema'] ?? config['_responseJsonSchema'];
  if (raw === undefined) return undefined;
  const schema = asObject(raw, 'generation_config.response_json_schema');
  if (mimeType !== 'application/json') {
    throw invalid(
      '* GenerateContentRequest.generation_config.response_mime_type: response_mime_type must be application/json when response_json_schema is set.\n',
      'generation_config.response_mime_type',
    );
  }
  return schema;
}

function invalidEnum(where: string, type: string, value: unknown): GoogleApiError {
  return invalid(
    `Invalid value at '${where}' (type.googleapis.com/google.ai.generativelanguage.v1beta.${type}), ${JSON.stringify(value)}`,
    where,
  );
}

function readModalities(raw: unknown): Set<string> {
  if (raw === undefined) return new Set(['TEXT', 'IMAGE']);
  if (!Array.isArray(raw)) throw invalid("Invalid value at 'generation_config.response_modalities': expected a list.");
  const result = new Set<string>();
  raw.forEach((value, index) => {
    const upper = typeof value === 'string' ? value.toUpperCase() : '';
    if (!MODALITIES.has(upper)) {
      throw invalidEnum(`generation_config.response_modalities[${index}]`, 'GenerationConfig.Modality', value);
    }
    result.add(upper);
  });
  if (result.has('AUDIO')) throw invalid('Model does not support the requested response modalities: audio');
  result.delete('MODALITY_UNSPECIFIED');
  return result.size === 0 ? new Set(['TEXT', 'IMAGE']) : result;
}

function readImageSize(model: ImageModelInfo, raw: unknown): ImageSize {
  if (raw === undefined) return DEFAULT_IMAGE_SIZE;
  const sizes: readonly string[] = model.imageSizes;
  if (typeof raw !== 'string' || !sizes.includes(raw)) {
    throw invalid(
      `Unsupported image size ${JSON.stringify(raw)} for model ${model.id}. Supported values: ${model.imageSizes.join(', ')}.`,
      'generation_config.image_config.image_size',
    );
  }
  return raw as ImageSize;
}

function readAspectRatio(model: ImageModelInfo, raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !model.aspectRatios.includes(raw)) {
    throw invalid(
      `Unsupported aspect ratio ${JSON.stringify(raw)} for model ${model.id}. Supported values: ${model.aspectRatios.join(', ')}.`,
      'generation_config.image_config.aspect_ratio',
    );
  }
  return raw;
}

function readInlineImage(blob: Record<string, unknown>, where: string): ImagePart {
  checkFields(blob, BLOB, where);
  const mimeType = blob['mimeType'];
  const data = blob['data'];
  if (typeof mimeType !== 'string' || mimeType === '') {
    throw invalid(`* GenerateContentRequest.${where}.mime_type: mime_type must be set.\n`, `${where}.mime_type`);
  }
  if (typeof data !== 'string' || data === '' || !BASE64.test(data)) {
    throw invalid(`Invalid value at '${where}.data' (TYPE_BYTES), Base64 decoding failed`, `${where}.data`);
  }
  const bytes = Buffer.from(data, data.includes('-') || data.includes('_') ? 'base64url' : 'base64');
  if (!measureInputImage(bytes)) throw unprocessableImage();
  return { via: 'inline', mimeType, bytes };
}
