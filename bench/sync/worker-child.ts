import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childStopper } from '../../src/local/child-stopper.js';

/**
 * `bunch worker` as a child process with an operator's flags and environment, so its memory can be
 * measured apart from the emulator's and Redis's. From source through tsx by default; `compiled`
 * runs the installed launcher (`bin/bunch.js` → `dist/`, what `npm install` builds), without tsx's
 * in-process compiler (≈ 60 MB of RSS), for the memory part.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export interface WorkerChild {
  pid: number;
  /** Everything written to stderr (pino JSON lines), for the report when something fails. */
  stderr(): string;
  /** SIGTERM (drain), then SIGKILL if it does not exit in time; resolves once it is gone. */
  stop(): Promise<void>;
}

export async function startWorkerChild(env: Record<string, string>, args: string[], options: { compiled?: boolean } = {}): Promise<WorkerChild> {
  const entry = options.compiled ? [path.join(repoRoot, 'bin/bunch.js')] : ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts')];
  const child = spawn(process.execPath, [...entry, 'worker', ...args], {
    cwd: repoRoot,
    env: { ...process.env, BUNCH_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const stop = childStopper(child, STOP_TIMEOUT_MS);
  try {
    await untilReady(child, (chunk) => {
      stderr += chunk;
    });
  } catch (error) {
    await stop();
    throw new Error(`worker child did not start: ${error instanceof Error ? error.message : String(error)}\n${stderr.slice(-2000)}`);
  }
  if (child.pid === undefined) throw new Error('worker child has no pid');
  return { pid: child.pid, stderr: () => stderr, stop };
}

function untilReady(child: ChildProcess, collect: (chunk: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      collect(text);
      seen += text;
      if (seen.includes('"workers ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited early (code ${code}, signal ${signal})`));
    });
  });
}
