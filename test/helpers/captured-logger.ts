import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/**
 * A pino logger that keeps its lines in memory, for in-process workers whose log a drill reads
 * (e.g. "output is being generated elsewhere; waiting": evidence that a claim made a job wait).
 */
export interface CapturedLogger {
  logger: Logger;
  /** Parsed lines logged so far, optionally only those with this `msg`. */
  lines(msg?: string): Record<string, unknown>[];
}

export function capturedLogger(level = 'info'): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      partial += chunk.toString('utf8');
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) {
        if (!line) continue;
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not JSON: ignore
        }
      }
      done();
    },
  });
  return {
    logger: pino({ level }, sink),
    lines: (msg) => (msg === undefined ? [...lines] : lines.filter((line) => line['msg'] === msg)),
  };
}
