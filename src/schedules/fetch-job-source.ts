import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { BunchError } from '../errors/bunch-error.js';
import type { ObjectStore } from '../storage/object-store.js';

export interface FetchedJobSource {
  /** A local path loadJobFile can read. */
  file: string;
  /** Removes what was downloaded (nothing for a local path). */
  cleanup(): Promise<void>;
}

/**
 * A scheduled run reads its job file when it fires, from wherever every worker can reach it: a
 * path (a shared or baked-in directory) or `s3://bucket/dir/job.yaml`. From S3 the job file is
 * downloaded with the files it names by relative path (catalog, system prompt file), keeping
 * their layout, so the job reads the same as it would on disk.
 */
export async function fetchJobSource(location: string, openStore: (url: string) => ObjectStore): Promise<FetchedJobSource> {
  if (!location.startsWith('s3://')) return { file: location, cleanup: async () => undefined };
  const slash = location.lastIndexOf('/');
  const base = location.slice(0, slash);
  const name = location.slice(slash + 1);
  const store = openStore(base);
  const dir = await mkdtemp(path.join(tmpdir(), 'bunch-job-'));
  try {
    const text = await download(store, name, dir, location);
    const job = parse(text) as { catalog?: { path?: unknown }; system?: { file?: unknown } } | null;
    for (const relative of [job?.catalog?.path, job?.system?.file]) {
      if (typeof relative !== 'string' || path.isAbsolute(relative) || relative.includes('://')) continue;
      const key = path.posix.normalize(relative);
      if (key.startsWith('..')) throw new BunchError('E_JOB_FILE', `${location}: "${relative}" leaves the job's S3 prefix`);
      await download(store, key, dir, `${base}/${key}`);
    }
    return { file: path.join(dir, name), cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await store.close();
  }
}

async function download(store: ObjectStore, key: string, dir: string, shown: string): Promise<string> {
  const body = await store.get(key);
  if (!body) throw new BunchError('E_JOB_FILE', `${shown} does not exist`);
  const target = path.join(dir, ...key.split('/'));
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, body);
  return body.toString('utf8');
}
