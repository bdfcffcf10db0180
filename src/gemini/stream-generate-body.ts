import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { BunchError } from '../errors/bunch-error.js';
import { Base64ChunkDecoder } from './base64-chunk-decoder.js';
import { announcedLength, DEFAULT_MAX_RESPONSE_BYTES, readBodyWithin, tooLarge } from './bounded-body.js';

/**
 * An image part's data once decoded while the body streamed in: `bytes`, or why the base64 was
 * not valid (the item then fails E_BAD_IMAGE, as a whole-string decode would have).
 */
export interface DecodedInlineData {
  bytes?: Buffer;
  problem?: string;
}

/** Where a decoded `inlineData.data` is attached in the parsed value (the `data` string is left empty). */
export const DECODED_DATA = 'bunchDecoded';

// stream-json's parser is a plain function: text in, `many(tokens)` or the registered `none`
// symbol out; called with `none` it flushes. These are stream-chain's markers, shared by symbol.
const NONE = Symbol.for('object-stream.none');
type ParserStep = ((chunk: string | symbol) => unknown) & object;

function tokensOf(out: unknown): Token[] {
  if (out === NONE || out === undefined || out === null) return [];
  return ((out as { values?: Token[] }).values ?? []) as Token[];
}

function malformedJson(detail: string, cause?: unknown): BunchError {
  return new BunchError('E_MALFORMED_RESPONSE', `generateContent response is not valid JSON: ${detail}`, cause === undefined ? {} : { cause });
}

/** An object or array being assembled, and the key it sits under in its parent object. */
type Container = ({ kind: 'object'; value: Record<string, unknown>; key: string | undefined } | { kind: 'array'; value: unknown[] }) & { under?: string };

/**
 * Answers announced at most this long are read whole and parsed natively: below about a
 * megabyte (a 512 px image, a caption) JSON.parse is several times faster than the streaming
 * tokenizer, and holding body, text and base64 at once costs a few MB at most. Longer answers
 * (1K–4K images: 2–24 MB), and any without a Content-Length, are streamed.
 */
export const STREAM_ABOVE_BYTES = 1024 * 1024;

export interface ReadBodyOptions {
  /** Stream answers announced longer than this (default STREAM_ABOVE_BYTES; 0 streams every answer). */
  streamAboveBytes?: number;
}

async function parseWhole(response: Response, maxBytes: number): Promise<unknown> {
  const text = (await readBodyWithin(response, maxBytes)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw malformedJson(error instanceof Error ? error.message : String(error), error);
  }
}

/**
 * Reads a generateContent answer as it streams in and parses it, decoding every
 * `inlineData.data` string to bytes piece by piece (Base64ChunkDecoder): a 4K answer (~24 MB of
 * JSON) never sits in memory as the body, its text, and the base64 string at once — only the
 * decoded image (~18 MB) and a chunk of the body. Everything else is assembled as JSON.parse
 * would. The parsed value has `data: ''` and the decoded bytes under DECODED_DATA beside it.
 */
export async function readGenerateBody(response: Response, maxBytes = DEFAULT_MAX_RESPONSE_BYTES, options: ReadBodyOptions = {}): Promise<unknown> {
  if (!response.body) return undefined;
  const announced = announcedLength(response);
  if (announced !== undefined && announced > maxBytes) {
    await response.body.cancel().catch(() => undefined);
    throw tooLarge(maxBytes, `Content-Length announces ${announced} bytes`);
  }
  if (announced !== undefined && announced <= (options.streamAboveBytes ?? STREAM_ABOVE_BYTES)) return parseWhole(response, maxBytes);
  let total = 0;
  let chunkStart = 0;
  const parse = jsonParser({ packKeys: true, packStrings: false, streamStrings: true, packNumbers: true, streamNumbers: false, streamKeys: false }) as unknown as ParserStep;
  // With an announced length, an image's data can decode to at most ¾ of what is still to come.
  // (Counted from the start of the chunk being parsed: the string may start anywhere in it.)
  const remaining = announced !== undefined && announced > 0 ? () => Math.ceil(((announced - chunkStart) * 3) / 4) : () => undefined;
  const assembler = new GenerateBodyAssembler(remaining);
  const text = new TextDecoder('utf-8');
  const reader = response.body.getReader();
  const feed = (chunk: string | symbol) => {
    let out: unknown;
    try {
      out = parse(chunk);
    } catch (error) {
      throw malformedJson(error instanceof Error ? error.message : String(error), error);
    }
    for (const token of tokensOf(out)) assembler.consume(token);
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunkStart = total;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes, `stopped reading after ${total} bytes`);
    }
    try {
      feed(text.decode(value, { stream: true }));
    } catch (error) {
      await reader.cancel().catch(() => undefined);
      throw error;
    }
  }
  const rest = text.decode();
  if (rest) feed(rest);
  feed(NONE);
  return assembler.result();
}

/** Builds the value from tokens; the one string it streams is an image part's data. */
class GenerateBodyAssembler {
  constructor(private readonly sizeHint: () => number | undefined) {}

  private readonly stack: Container[] = [];
  private root: unknown;
  private done = false;
  /** The string being read: its pieces, or a decoder when it is an image's data. */
  private pieces: string[] | undefined;
  private decoder: Base64ChunkDecoder | undefined;

  consume(token: Token): void {
    switch (token.name) {
      case 'startObject':
        this.open({ kind: 'object', value: {}, key: undefined });
        return;
      case 'startArray':
        this.open({ kind: 'array', value: [] });
        return;
      case 'endObject':
      case 'endArray':
        this.close();
        return;
      case 'keyValue': {
        const top = this.stack.at(-1);
        if (top?.kind === 'object') top.key = token.value;
        return;
      }
      case 'startString':
        if (this.isImageData()) this.decoder = new Base64ChunkDecoder(this.sizeHint());
        else this.pieces = [];
        return;
      case 'stringChunk':
        if (this.decoder) this.decoder.write(token.value);
        else this.pieces?.push(token.value);
        return;
      case 'endString':
        if (this.decoder) {
          const bytes = this.decoder.end();
          const decoded: DecodedInlineData = bytes ? { bytes } : { problem: this.decoder.problem ?? 'image data is not valid base64' };
          this.decoder = undefined;
          const top = this.stack.at(-1);
          if (top?.kind === 'object') top.value[DECODED_DATA] = decoded;
          this.add('');
        } else {
          this.add((this.pieces ?? []).join(''));
          this.pieces = undefined;
        }
        return;
      case 'numberValue':
        this.add(Number(token.value));
        return;
      case 'nullValue':
        this.add(null);
        return;
      case 'trueValue':
        this.add(true);
        return;
      case 'falseValue':
        this.add(false);
        return;
      default:
        return;
    }
  }

  result(): unknown {
    if (!this.done || this.stack.length > 0) throw malformedJson('the body ended before the JSON did');
    return this.root;
  }

  /** The string about to be read is `…inlineData.data`. */
  private isImageData(): boolean {
    const top = this.stack.at(-1);
    const parent = this.stack.at(-2);
    return top?.kind === 'object' && top.key === 'data' && top.under === 'inlineData' && parent?.kind === 'object';
  }

  private open(container: Container): void {
    const parent = this.stack.at(-1);
    if (parent?.kind === 'object' && parent.key !== undefined) container.under = parent.key;
    this.add(container.value);
    this.stack.push(container);
  }

  private close(): void {
    this.stack.pop();
    const top = this.stack.at(-1);
    if (top?.kind === 'object') top.key = undefined;
  }

  private add(value: unknown): void {
    const top = this.stack.at(-1);
    if (!top) {
      if (this.done) throw malformedJson('more than one JSON value');
      this.root = value;
      this.done = true;
      return;
    }
    if (top.kind === 'array') top.value.push(value);
    else if (top.key !== undefined) {
      // Objects are assembled into plain objects; `__proto__` is set as an own key, as JSON.parse does.
      Object.defineProperty(top.value, top.key, { value, enumerable: true, writable: true, configurable: true });
      top.key = undefined;
    }
  }
}
