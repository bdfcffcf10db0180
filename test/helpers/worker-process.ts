import type { BunchStack } from './bunch-stack.js';
import { spawnWorker, waitFor, type WorkerProcess } from './spawn-worker.js';

/**
 * `bunch worker` processes for chaos drills: started against a stack with short BullMQ lock and
 * stall timings (so a paused or killed process loses its jobs in seconds, not a minute), ended by
 * their own pid only.
 */
export interface WorkerProcessOptions {
  concurrency: number;
  /** BUNCH_LOCK_DURATION_MS (the CLI accepts 1000 and up). */
  lockDurationMs: number;
  /** BUNCH_STALLED_INTERVAL_MS (the CLI accepts 1000 and up). */
  stalledIntervalMs: number;
}

export function workerProcessEnv(stack: BunchStack, options: Omit<WorkerProcessOptions, 'concurrency'>): Record<string, string> {
  return {
    REDIS_URL: stack.redis.url,
    BUNCH_PREFIX: stack.prefix,
    GEMINI_BASE_URL: stack.emulator.url,
    GEMINI_API_KEY: stack.emulator.apiKey ?? 'unused',
    BUNCH_LOCK_DURATION_MS: String(options.lockDurationMs),
    BUNCH_STALLED_INTERVAL_MS: String(options.stalledIntervalMs),
  };
}

/** Spawns a worker process and resolves once it logged `workers ready`. */
export async function startWorkerProcess(stack: BunchStack, options: WorkerProcessOptions): Promise<WorkerProcess> {
  const worker = spawnWorker(workerProcessEnv(stack, options), ['--concurrency', String(options.concurrency)]);
  try {
    await waitFor(() => worker.stderr().includes('workers ready') || !isRunning(worker), 30_000, 'the worker process to start');
  } catch (error) {
    worker.child.kill('SIGKILL');
    throw error;
  }
  if (!isRunning(worker)) throw new Error(`the worker process exited during start-up:\n${worker.stderr()}`);
  return worker;
}

export function isRunning(worker: WorkerProcess): boolean {
  return worker.child.exitCode === null && worker.child.signalCode === null;
}

/** For afterEach: SIGKILL (works on a SIGSTOPped process too) and wait, if it is still running. */
export async function killIfRunning(worker: WorkerProcess | undefined): Promise<void> {
  if (!worker || !isRunning(worker)) return;
  worker.child.kill('SIGKILL');
  await worker.exited;
}

/** Pino messages (`msg`) a worker process logged, with their fields. */
export function loggedLines(worker: WorkerProcess): Record<string, unknown>[] {
  return worker
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
