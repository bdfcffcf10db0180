import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** Runs memory-stages-child.ts in a fresh process (so nothing else lives in its heap) and reads its report. */
export interface MemoryStages {
  bodyChars: number;
  base64Chars: number;
  pngBytes: number;
  stages: { stage: string; rssMb: number; heapMb: number; externalMb: number }[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

export async function probeMemoryStages(baseUrl: string, apiKey: string, outDir: string): Promise<MemoryStages> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', path.join(here, 'memory-stages-child.ts'), baseUrl, apiKey, outDir],
    { cwd: repoRoot, maxBuffer: 1 << 20, timeout: 120_000 },
  );
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as MemoryStages;
}
