/**
 * `bunch emulator`: runs the Gemini API emulator in the foreground until SIGINT/SIGTERM. Only the
 * CLI entry point exits the process; this resolves once the server has closed.
 */
import type { Command } from 'commander';
import type { EmulatorOptions } from '../../emulator/start-emulator.js';
import { integerFlag, positiveNumberFlag } from '../number-flag.js';

interface EmulatorFlags {
  port: string;
  host: string;
  profile?: string;
  apiKey?: string;
  auth: boolean;
  timeScale?: string;
  realistic?: boolean;
  dataDir?: string;
}

export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description(
      'Run the built-in Gemini API emulator (generateContent, Files, Batch, OpenAI/Claude-compatible images).\n' +
        'Point clients at the printed URL (e.g. GEMINI_BASE_URL). Inspect it at /emulator/stats and /emulator/requests.',
    )
    .option('--port <n>', 'port to listen on (0 = any free port)', '8787')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--profile <file.json>', 'JSON profile with behaviour knobs (latency, fault rates, quotas, batch timing)')
    .option('--api-key <key>', 'API key clients must send (default: emulator-key)')
    .option('--no-auth', 'accept requests without checking the API key')
    .option('--time-scale <x>', 'multiply every delay (latency, RPM window, retry delays) by x')
    .option('--realistic', 'send PNGs as large as the real service (~2 MB at 1K, ~18 MB at 4K)')
    .option('--data-dir <dir>', 'where uploaded files and batch results are kept (default: a temp dir)')
    .action(async (flags: EmulatorFlags) => {
      await runEmulatorCommand(flags);
    });
}

async function runEmulatorCommand(flags: EmulatorFlags): Promise<void> {
  const options: EmulatorOptions = {
    host: flags.host,
    port: integerFlag('--port', flags.port, { min: 0, max: 65_535 }),
    apiKey: flags.auth ? (flags.apiKey ?? 'emulator-key') : null,
  };
  if (flags.profile !== undefined) options.profile = flags.profile;
  if (flags.timeScale !== undefined) options.timeScale = positiveNumberFlag('--time-scale', flags.timeScale);
  if (flags.realistic) options.realisticPayload = true;
  if (flags.dataDir !== undefined) options.dataDir = flags.dataDir;
  // Loaded on use: the emulator stays out of every other command's process (a worker's RSS).
  const { startEmulator } = await import('../../emulator/start-emulator.js');
  const emulator = await startEmulator(options);
  process.stdout.write(`bunch emulator listening on ${emulator.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emulator.close();
}
