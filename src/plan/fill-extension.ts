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
