import { BunchError } from '../errors/bunch-error.js';

/** The placeholder planned object keys keep until the worker knows the image's real type. */
export const EXTENSION_PLACEHOLDER = '{{ext}}';

/** Replaces `{{ext}}` in a planned object key, e.g. with `png` once the image bytes are known. */
export function fillExtension(objectKey: string, ext: string): string {
  if (!/^[a-z0-9]{1,8}$/.test(ext)) {
    throw new BunchError('E_INTERNAL', `invalid file extension ${JSON.stringify(ext)}`);
  }
  return objectKey.replaceAll(EXTENSION_PLACEHOLDER, ext);
}

/**
 * The placeholder a dependant variant's keys keep until its hero's image, and so its own
 * inputHash, is known (see complete-dependant.ts).
 */
export const HASH_PLACEHOLDER = '{{hash}}';

export function fillHash(objectKey: string, inputHash: string): string {
  if (!/^[0-9a-f]{64}$/.test(inputHash)) throw new BunchError('E_INTERNAL', 'invalid inputHash');
  return objectKey.replaceAll(HASH_PLACEHOLDER, inputHash.slice(0, 12));
}
