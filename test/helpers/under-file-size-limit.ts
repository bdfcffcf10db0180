import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

/**
 * Runs a TypeScript script of the repository in a child process whose files may not grow past
 * `kib` KiB (`ulimit -f`): a write beyond fails with EFBIG (Node ignores SIGXFSZ), as ENOSPC
 * would on a full disk. tsx's cache is off so tsx itself writes nothing. Returns the last line
 * the script printed, parsed as JSON.
 */
export async function underFileSizeLimit(kib: number, script: string, args: string[], env: Record<string, string> = {}): Promise<unknown> {
  const quoted = [script, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  const command = `ulimit -f ${kib} && exec "${process.execPath}" --import tsx ${quoted}`;
  const { stdout } = await run('bash', ['-c', command], { cwd: repoRoot, env: { ...process.env, TSX_DISABLE_CACHE: '1', ...env } }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  const last = stdout.trim().split('\n').at(-1);
  if (!last) throw new Error(`${script} printed nothing`);
  return JSON.parse(last) as unknown;
}
