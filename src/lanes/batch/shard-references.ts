import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { uploadReferences } from '../../references/upload-references.js';
import { REFERENCE_URI_SCHEME } from '../../references/reference-placeholder.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { BatchApiClient } from '../../gemini/batch-api.js';

// Only a fileUri value is a placeholder: the same text inside a prompt is JSON-escaped (`\"`) and never matches.
const PLACEHOLDER = new RegExp(`"fileUri":"${REFERENCE_URI_SCHEME}([0-9a-f]{64})"`, 'g');

/** The file to upload, and the items left out of it because a reference they name is gone. */
export interface UploadedShardFile {
  file: string;
  /** itemKey → why it was left out (a reference image missing from storage). */
  left: Map<string, string>;
  /** Lines the file still holds. */
  lines: number;
}

/**
 * A stored shard names reference images by placeholder (`bunch-ref:<sha256>`). Before upload each
 * distinct image is put through the Files API once (uploadReferences) and every placeholder is
 * replaced by its URI, line by line. A line naming an image that is missing from storage is left
 * out (its item fails E_REFERENCE, see the batch processor) rather than refusing the whole shard:
 * before, every other item moved to the sync lane and was paid at the full price. Returns the file
 * to upload: `stored` itself when the shard has no references, else `rewritten`.
 */
export async function withUploadedReferences(
  client: BatchApiClient,
  store: ObjectStore,
  stored: string,
  rewritten: string,
  tempDir: string,
  /** Items already recorded (failed by an earlier delivery of this shard): never sent, nor their images uploaded. */
  done: ReadonlySet<string> = new Set(),
): Promise<UploadedShardFile> {
  const shas = new Set<string>();
  let count = 0;
  const isDone = (line: string) => done.size > 0 && done.has((JSON.parse(line) as { key: string }).key);
  for await (const line of lines(stored)) {
    if (line === '' || isDone(line)) continue;
    count += 1;
    for (const match of line.matchAll(PLACEHOLDER)) shas.add(match[1] as string);
  }
  if (shas.size === 0 && done.size === 0) return { file: stored, left: new Map(), lines: count };
  const missing = new Map<string, string>();
  const uris = await uploadReferences(client, store, shas, { dir: tempDir, baseUrl: client.config?.baseUrl ?? '', missing });
  const out = createWriteStream(rewritten);
  const failure = once(out, 'error').then(([error]) => {
    throw error;
  });
  failure.catch(() => undefined);
  const left = new Map<string, string>();
  let kept = 0;
  for await (const line of lines(stored)) {
    if (line === '' || isDone(line)) continue;
    const gone = missing.size === 0 ? undefined : [...line.matchAll(PLACEHOLDER)].map((match) => missing.get(match[1] as string)).find((why) => why !== undefined);
    if (gone !== undefined) {
      left.set((JSON.parse(line) as { key: string }).key, gone);
      continue;
    }
    kept += 1;
    const text = line.replace(PLACEHOLDER, (_, sha: string) => `"fileUri":${JSON.stringify(uris.get(sha)?.uri ?? '')}`) + '\n';
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failure]);
  }
  out.end();
  await Promise.race([once(out, 'finish'), failure]);
  return { file: rewritten, left, lines: kept };
}

function lines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
}
