import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, GoogleGenAI, type Content, type GenerateContentResponse, type Part } from '@google/genai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/start-emulator.js';
import { promptHashOf } from '../../../src/emulator/validate-generate-request.js';

const schemaFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../jobs/schemas/alt-text.schema.json');
const DOCS = 'Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.';

let emulator: RunningEmulator;
let ai: GoogleGenAI;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: 'test-key' });
  ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: emulator.url } });
});
afterAll(async () => emulator.close());

async function apiError(call: () => Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await call();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    const body = JSON.parse((error as ApiError).message) as { error: { message: string } };
    return { status: (error as ApiError).status, message: body.error.message };
  }
  throw new Error('expected an ApiError');
}

function parts(response: GenerateContentResponse): Part[] {
  return response.candidates?.[0]?.content?.parts ?? [];
}

describe('multi-turn edits: the emulator checks the thought signatures of earlier turns', () => {
  const model = 'gemini-3.1-flash-image-preview';
  const first: Content = { role: 'user', parts: [{ text: 'A linen shirt on a wooden hanger' }] };
  const next: Content = { role: 'user', parts: [{ text: 'add a sprig of eucalyptus' }] };
  let answer: Part[];
  beforeAll(async () => {
    answer = parts(await ai.models.generateContent({ model, contents: [first] }));
    expect(answer.map((part) => (part.inlineData ? 'image' : 'text'))).toEqual(['text', 'image']);
  });

  it('a second turn that sends the answer back as given is answered, and the log counts its turns and signatures', async () => {
    const response = await ai.models.generateContent({ model, contents: [first, { role: 'model', parts: answer }, next] });
    expect(parts(response).find((part) => part.inlineData)?.thoughtSignature).toBeTypeOf('string');
    const hash = promptHashOf('A linen shirt on a wooden hanger\nadd a sprig of eucalyptus');
    expect(emulator.requestLog.list({ promptHash: hash })[0]).toMatchObject({ status: 200, turns: 3, echoedSignatures: 2 });
  });

  it('an image part without its signature is a 400 naming where it is', async () => {
    const unsigned = answer.map((part) => (part.inlineData ? { inlineData: part.inlineData } : part));
    const error = await apiError(() => ai.models.generateContent({ model, contents: [first, { role: 'model', parts: unsigned }, next] }));
    expect(error).toEqual({ status: 400, message: `Image part is missing a thought_signature in content position 2, part position 2. ${DOCS}` });
  });

  it('the first text part of a model turn needs its signature too; later text parts do not', async () => {
    const [text, image] = answer as [Part, Part];
    const unsignedText = { text: text.text };
    const error = await apiError(() => ai.models.generateContent({ model, contents: [first, { role: 'model', parts: [unsignedText, image] }, next] }));
    expect(error).toEqual({ status: 400, message: `Text part is missing a thought_signature in content position 2, part position 1. ${DOCS}` });
    const trailing = await ai.models.generateContent({ model, contents: [first, { role: 'model', parts: [text, image, { text: 'and a note' }] }, next] });
    expect(parts(trailing).some((part) => part.inlineData)).toBe(true);
  });

  it('a signature moved onto another image is refused as corrupted', async () => {
    const other = parts(await ai.models.generateContent({ model, contents: 'A wool scarf, folded' }));
    const otherImage = other.find((part) => part.inlineData)!;
    const swapped = answer.map((part) => (part.inlineData ? { inlineData: otherImage.inlineData, thoughtSignature: part.thoughtSignature } : part));
    const error = await apiError(() => ai.models.generateContent({ model, contents: [first, { role: 'model', parts: swapped }, next] }));
    expect(error).toEqual({ status: 400, message: `Corrupted thought signature in content position 2, part position 2. ${DOCS}` });
  });

  it('a model without thinking issues no signatures and needs none', async () => {
    const classic = 'gemini-2.5-flash-image';
    const given = parts(await ai.models.generateContent({ model: classic, contents: [first] }));
    expect(given.every((part) => part.thoughtSignature === undefined)).toBe(true);
    const response = await ai.models.generateContent({ model: classic, contents: [first, { role: 'model', parts: given }, next] });
    expect(parts(response).some((part) => part.inlineData)).toBe(true);
  });
});

describe('Google Search grounding', () => {
  it('web and image search on Nano Banana 2: queries, sources and image sources, and the search tokens in the usage', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-3.1-flash-image-preview',
      contents: 'The Aeropress Go coffee maker by Aeropress',
      config: { tools: [{ googleSearch: { searchTypes: { webSearch: {}, imageSearch: {} } } }] },
    });
    const metadata = response.candidates?.[0]?.groundingMetadata as Record<string, unknown>;
    expect(metadata['webSearchQueries']).toEqual(['The Aeropress Go coffee maker by Aeropress', 'The Aeropress Go coffee maker by Aeropress official product page']);
    expect(metadata['imageSearchQueries']).toEqual(['The Aeropress Go coffee maker by Aeropress product photo']);
    expect(metadata['groundingChunks']).toEqual([
      { web: { uri: 'https://www.example.com/products/the-aeropress-go-coffee-maker-by', title: 'example.com' } },
      { web: { uri: 'https://reviews.example.com/the-aeropress-go-coffee-maker-by', title: 'reviews.example.com' } },
      { image: { uri: 'https://shop.example.com/p/the-aeropress-go-coffee-maker-by', imageUri: 'https://images.example.com/the-aeropress-go-coffee-maker-by.jpg' } },
    ]);
    expect((metadata['searchEntryPoint'] as { renderedContent: string }).renderedContent).toContain('<a class="chip"');
    const usage = response.usageMetadata!;
    expect(usage.toolUsePromptTokenCount).toBe(3 * 96);
    expect(usage.totalTokenCount).toBe(usage.promptTokenCount! + usage.candidatesTokenCount! + usage.toolUsePromptTokenCount! + usage.thoughtsTokenCount!);
  });

  it('plain googleSearch is web search only', async () => {
    const response = await ai.models.generateContent({ model: 'gemini-3-pro-image-preview', contents: 'A brass desk lamp', config: { tools: [{ googleSearch: {} }] } });
    const metadata = response.candidates?.[0]?.groundingMetadata as Record<string, unknown>;
    expect(metadata['webSearchQueries']).toHaveLength(2);
    expect(metadata['imageSearchQueries']).toBeUndefined();
  });

  it('refuses what the model does not offer, word for word', async () => {
    const imageOnPro = await apiError(() =>
      ai.models.generateContent({ model: 'gemini-3-pro-image-preview', contents: 'x', config: { tools: [{ googleSearch: { searchTypes: { imageSearch: {} } } }] } }),
    );
    expect(imageOnPro).toEqual({ status: 400, message: 'Image Search is not supported for this model.' });
    const searchOnClassic = await apiError(() => ai.models.generateContent({ model: 'gemini-2.5-flash-image', contents: 'x', config: { tools: [{ googleSearch: {} }] } }));
    expect(searchOnClassic).toEqual({ status: 400, message: 'Search Grounding is not supported for this model.' });
    const code = await apiError(() => ai.models.generateContent({ model: 'gemini-3.1-flash-image-preview', contents: 'x', config: { tools: [{ codeExecution: {} }] } }));
    expect(code).toEqual({ status: 400, message: 'Tool code_execution is not supported for this model.' });
  });
});

describe('structured output', () => {
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
  const validate = new Ajv2020({ strict: false }).compile(schema);

  it('a text-only request with responseJsonSchema answers JSON that matches it', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-3.1-flash-image-preview',
      contents: 'Write alt text for a linen shirt in sand',
      config: { responseModalities: ['TEXT'], responseMimeType: 'application/json', responseJsonSchema: schema },
    });
    const answer = parts(response).filter((part) => !part.thought);
    expect(answer).toHaveLength(1);
    const value = JSON.parse(answer[0]!.text!) as Record<string, unknown>;
    expect(validate(value)).toBe(true);
    expect(value['altText']).toContain('Write alt text for a linen shirt in sand');
  });

  it('[[emu:bad-json]] leaves out the first required property', async () => {
    const response = await ai.models.generateContent({
      model: 'gemini-3.1-flash-image-preview',
      contents: 'Write alt text for a linen shirt [[emu:bad-json]]',
      config: { responseModalities: ['TEXT'], responseMimeType: 'application/json', responseJsonSchema: schema },
    });
    const value = JSON.parse(parts(response)[0]!.text!) as Record<string, unknown>;
    expect(Object.keys(value).sort()).toEqual(['description', 'showsColour', 'tags']);
    expect(validate(value)).toBe(false);
  });

  it('a schema without the JSON mime type is a 400', async () => {
    const error = await apiError(() =>
      ai.models.generateContent({ model: 'gemini-3.1-flash-image-preview', contents: 'x', config: { responseModalities: ['TEXT'], responseJsonSchema: schema } }),
    );
    expect(error).toEqual({
      status: 400,
      message: '* GenerateContentRequest.generation_config.response_mime_type: response_mime_type must be application/json when response_json_schema is set.\n',
    });
  });
});
