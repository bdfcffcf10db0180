/**
 * The body of `POST /v1beta/models/{model}:generateContent` (camelCase, as sent on the wire), and
 * of each `request` in a Batch API JSONL line. Only the members bunch sends are typed here.
 */
export type ResponseModality = 'TEXT' | 'IMAGE';
export type ThinkingLevel = 'MINIMAL' | 'LOW' | 'MEDIUM' | 'HIGH';

export interface TextPart {
  text: string;
  /** On a model turn sent back in a multi-turn edit: the signature the API gave this part. */
  thoughtSignature?: string;
}

export interface InlineDataPart {
  inlineData: { mimeType: string; data: string };
  thoughtSignature?: string;
}

export interface FileDataPart {
  fileData: { mimeType?: string; fileUri: string };
}

export type RequestPart = TextPart | InlineDataPart | FileDataPart;

export interface RequestContent {
  role: 'user' | 'model';
  parts: RequestPart[];
}

export interface ImageConfig {
  aspectRatio?: string;
  imageSize?: string;
}

export interface GenerationConfig {
  responseModalities: ResponseModality[];
  imageConfig?: ImageConfig;
  temperature?: number;
  seed?: number;
  thinkingConfig?: { thinkingLevel?: ThinkingLevel; includeThoughts?: boolean };
  /** Structured output: `application/json` with `responseJsonSchema`. */
  responseMimeType?: string;
  responseJsonSchema?: Readonly<Record<string, unknown>>;
}

export interface GoogleSearchTool {
  googleSearch: { searchTypes?: { webSearch?: Record<string, never>; imageSearch?: Record<string, never> } };
}

export interface GenerateContentRequest {
  contents: RequestContent[];
  systemInstruction?: { parts: TextPart[] };
  generationConfig: GenerationConfig;
  tools?: GoogleSearchTool[];
}
