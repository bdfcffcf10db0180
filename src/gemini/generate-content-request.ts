/**
 * The body of `POST /v1beta/models/{model}:generateContent` (camelCase, as sent on the wire), and
 * of each `request` in a Batch API JSONL line. Only the members bunch sends are typed here.
 */
export type ResponseModality = 'TEXT' | 'IMAGE';
export type ThinkingLevel = 'MINIMAL' | 'LOW' | 'MEDIUM' | 'HIGH';

export interface TextPart {
  text: string;
}

export interface InlineDataPart {
  inlineData: { mimeType: string; data: string };
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
  thinkingConfig?: { thinkingLevel: ThinkingLevel };
}

export interface GenerateContentRequest {
  contents: RequestContent[];
  systemInstruction?: { parts: TextPart[] };
  generationConfig: GenerationConfig;
}
