import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { uploadReferences } from '../../references/upload-references.js';
import { REFERENCE_URI_SCHEME } from '../../references/reference-placeholder.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { BatchApiClient } from '../../gemini/batch-api.js';

// Only a fileUri value is a placeholder: the same text inside a prompt is JSON-escaped (`\"`) and never matches.
const PLACEHOLDER = new RegExp(`"fileUri":"${REFERENCE_URI_SCHEME}([0-9a-f]{64})"`, 'g');

/**
 * A stored shard names reference images by placeholder (`bunch-ref:<sha256>`). Before upload each
 * distinct image is put through the Files API once (uploadReferences) and every placeholder is
 * replaced by its URI, line by line. Returns the file to upload: `stored` itself when the shard
 * has no references, else `rewritten`.
 */
export async function withUploadedReferences(
  client: BatchApiClient,
  store: ObjectStore,
  stored: string,
  rewritten: string,
  tempDir: string,
): Promise<string> {
  const shas = new Set<string>();
  for await (const line of lines(stored)) for (const match of line.matchAll(PLACEHOLDER)) shas.add(match[1] as string);
  if (shas.size === 0) return stored;
  const uris = await uploadReferences(client, store, shas, { dir: tempDir, baseUrl: client.config?.baseUrl ?? '' });
  const out = createWriteStream(rewritten);
  const failure = once(out, 'error').then(([error]) => {
    throw error;
  });
  failure.catch(() => undefined);
  for await (const line of lines(stored)) {
    const text = line.replace(PLACEHOLDER, (_, sha: string) => `"fileUri":${JSON.stringify(uris.get(sha)?.uri ?? '')}`) + '\n';
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failure]);
  }
  out.end();
  await Promise.race([once(out, 'finish'), failure]);
  return rewritten;
}

function lines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
}
