import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `bunch` CLI (from source through tsx) as a child process. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, cwd = repoRoot): Promise<CliResult> {
  return runNode([path.join(repoRoot, 'src/cli/main.ts'), ...args], env, cwd);
}

/** Runs a TypeScript file of the repository (path relative to its root, or absolute) through tsx. */
export function runNode(args: string[], env: Record<string, string | undefined> = {}, cwd = repoRoot): Promise<CliResult> {
  const [file, ...rest] = args;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(repoRoot, file ?? ''), ...rest], {
      cwd,
      env: { ...process.env, BUNCH_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
