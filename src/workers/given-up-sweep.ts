import { delay } from './in-flight-jobs.js';

/** How often a fleet sweeps the failed set for items nobody recorded. */
export const GIVEN_UP_SWEEP_MS = 60_000;
/**
 * How long stop() waits for a sweep under way, which it has told to end after the job in hand (one
 * stuck on an unreachable Redis is left behind).
 */
const STOP_WAIT_MS = 5_000;

/**
 * Runs a sweep (sweep-given-up-jobs.ts) when started and then every `intervalMs`, one at a time:
 * the next is timed from the end of the last, so a slow one never piles up behind itself.
 */
export class GivenUpSweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Aborted by stop(): the pass under way ends after the job in hand instead of running on. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly sweep: (signal: AbortSignal) => Promise<number>,
    private readonly intervalMs: number,
    private readonly onError: (error: Error) => void,
    private readonly onRecorded: (handed: number) => void,
  ) {}

  start(): void {
    this.pass();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    clearTimeout(this.timer);
    if (this.running) await Promise.race([this.running, delay(STOP_WAIT_MS)]);
  }

  private pass(): void {
    if (this.stopped) return;
    this.running = this.sweep(this.stopping.signal)
      .then((handed) => {
        if (handed > 0) this.onRecorded(handed);
      })
      .catch((error: unknown) => this.onError(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        this.timer = setTimeout(() => this.pass(), this.intervalMs);
        // Never what keeps a process alive.
        this.timer.unref();
      });
  }
}
