import { pino, type Logger } from 'pino';

/**
 * JSON logs (pino) to stderr, so `--json` output on stdout stays machine-readable. Fields that
 * could carry secrets are redacted by path as a second line of defence: code never logs them.
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'bunch',
      level: options.level ?? 'info',
      redact: {
        paths: ['apiKey', '*.apiKey', 'headers["x-goog-api-key"]', 'credentials', '*.credentials', 'secretAccessKey', '*.secretAccessKey'],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
