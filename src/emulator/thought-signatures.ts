import { createHash, createHmac } from 'node:crypto';
import { GoogleApiError } from './google-error.js';

/**
 * Thought signatures, as the emulator issues and checks them. The real API's signatures are
 * opaque and encrypted; the image models refuse (400) a multi-turn request whose earlier model
 * turns come back without them. The emulator's signature is an HMAC of the part's content, so it
 * can also tell a forged or mismatched signature (a signature copied onto another image) from a
 * real one. Content is hashed after decoding, so any base64 spelling of the same bytes passes.
 */
const KEY = 'bunch-emulator-thought-signature-v1';
const DOCS = 'Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.';

/** What a signature is bound to: a text part's text, an image part's bytes or its file URI. */
export type SignedContent = { kind: 'text'; text: string } | { kind: 'image'; bytes: Buffer } | { kind: 'file'; uri: string };

export function signatureFor(content: SignedContent): string {
  const digest = createHash('sha256');
  if (content.kind === 'text') digest.update(`text\0${content.text}`);
  else if (content.kind === 'image') digest.update('image\0').update(content.bytes);
  else digest.update(`file\0${content.uri}`);
  return createHmac('sha256', KEY).update(digest.digest()).digest('base64');
}

/** One non-thought part of a model turn in a request, with its place (0-based) in the request. */
export interface EchoedModelPart {
  contentIndex: number;
  partIndex: number;
  content: SignedContent;
  signature: string | undefined;
}

/**
 * Checks the model turns of a request to a thinking model: the first non-thought part of each
 * model turn and every image part must carry the signature the API gave it. Returns how many
 * signatures were echoed. Models that do not think issue no signatures and check none.
 */
export function checkThoughtSignatures(thinking: boolean, turns: EchoedModelPart[][]): number {
  let echoed = 0;
  for (const parts of turns) {
    parts.forEach((part, index) => {
      if (part.signature !== undefined) {
        if (!thinking) return;
        if (part.signature !== signatureFor(part.content)) {
          throw new GoogleApiError(
            400,
            'INVALID_ARGUMENT',
            `Corrupted thought signature in content position ${part.contentIndex + 1}, part position ${part.partIndex + 1}. ${DOCS}`,
          );
        }
        echoed += 1;
        return;
      }
      if (!thinking) return;
      const required = index === 0 || part.content.kind !== 'text';
      if (!required) return;
      const what = part.content.kind === 'text' ? 'Text part' : 'Image part';
      throw new GoogleApiError(
        400,
        'INVALID_ARGUMENT',
        `${what} is missing a thought_signature in content position ${part.contentIndex + 1}, part position ${part.partIndex + 1}. ${DOCS}`,
      );
    });
  }
  return echoed;
}
