import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const jobsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../jobs');

export interface ExampleJobs {
  /** The copy of jobs/ (catalogs, schemas and brand guide beside the job files). */
  dir: string;
  /**
   * A copy of `jobs/<name>.yaml` writing under `<outRoot>/<name>`, with text replacements (each must
   * be found), as a file of its own so one example can be run in several versions.
   */
  job(name: string, replace?: [string, string][]): Promise<string>;
}

/** The repository's example jobs, copied under `root` so they run as committed but write into the test's directory. */
export async function copyExampleJobs(root: string): Promise<ExampleJobs> {
  const dir = path.join(root, 'jobs');
  await cp(jobsDir, dir, { recursive: true });
  return {
    dir,
    async job(name, replace = []) {
      let text = await readFile(path.join(dir, `${name}.yaml`), 'utf8');
      text = text.replace(`url: file://../out/${name}`, `url: file://${path.join(root, 'out', name)}`);
      for (const [from, to] of replace) {
        expect(text).toContain(from);
        text = text.replace(from, to);
      }
      const target = path.join(dir, `${name}-${Math.random().toString(36).slice(2, 8)}.yaml`);
      await writeFile(target, text);
      return target;
    },
  };
}
