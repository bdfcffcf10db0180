import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { PRESENT, type PresenceWorkerData } from './presence-states.js';

/**
 * Checks, on a second thread, that the objects each entry of a loaded stored-output index names
 * exist in a local directory — a stat each, in the index's order (the catalog's, mostly), ahead
 * of planning, which meanwhile uses the main thread. Planning asks `present(n)` for an entry:
 * true only when the worker found all of its objects; otherwise (not looked at yet, or something
 * missing) planning stats them itself, so the answer never depends on the race. A second night
 * of a million rows makes two or three million stats: about a quarter of its planning time when
 * they were made on the main thread.
 */
export class PresencePrefetch {
  /** Settles when the thread has looked at every entry, stopped on an error, or was closed. */
  readonly finished: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly states: Uint8Array,
  ) {
    this.finished = new Promise<void>((resolve) => {
      worker.once('message', () => resolve());
      worker.once('exit', () => resolve());
      worker.once('error', () => resolve());
    });
  }

  static start(options: { indexFile: string; root: string; entries: number; logger?: Logger }): PresencePrefetch {
    const shared = new SharedArrayBuffer(Math.max(1, options.entries));
    const data: PresenceWorkerData = { indexFile: options.indexFile, root: options.root, states: shared };
    const worker = startWorker(data);
    worker.on('error', (error) => options.logger?.debug({ err: error }, 'presence prefetch stopped; planning checks every entry itself'));
    // The thread must never keep a finished planning process alive.
    worker.unref();
    return new PresencePrefetch(worker, new Uint8Array(shared));
  }

  present(entry: number): boolean {
    return entry < this.states.length && Atomics.load(this.states, entry) === PRESENT;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

function startWorker(workerData: PresenceWorkerData): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from the TypeScript sources (tests, benchmarks under tsx): the worker's module goes
    // through tsx as well. The installed package runs the compiled .js directly.
    const url = new URL('./presence-worker.ts', here).href;
    return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); })`, { eval: true, workerData });
  }
  return new Worker(new URL('./presence-worker.js', here), { workerData });
}
