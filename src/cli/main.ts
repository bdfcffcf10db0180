import { Command, CommanderError } from 'commander';
import { BunchError, formatLocation } from '../errors/bunch-error.js';
import { redactSecrets } from '../errors/redact-secrets.js';
import { registerEmulatorCommand } from './commands/emulator-command.js';
import { registerCancelCommand } from './commands/cancel-command.js';
import { registerLogsCommand } from './commands/logs-command.js';
import { registerRetryCommand } from './commands/retry-command.js';
import { registerScheduleCommand } from './commands/schedule-command.js';
import { registerModelsCommand } from './commands/models-command.js';
import { registerManifestCommand } from './commands/manifest-command.js';
import { registerGalleryCommand } from './commands/gallery-command.js';
import { registerServeCommand } from './commands/serve-command.js';
import { registerDemoCommand } from './commands/demo-command.js';
import { registerRunCommand } from './commands/run-command.js';
import { registerStatusCommand } from './commands/status-command.js';
import { registerWorkerCommand } from './commands/worker-command.js';
import { EXIT, exitCodeForError } from './exit-codes.js';
import { packageVersion } from './package-root.js';

/**
 * The `bunch` command line. Each verb lives in its own file under commands/; this entry point is
 * the only place that decides the process exit code.
 */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command()
    .name('bunch')
    .description(
      [
        'Turn product catalogs into generated product images and captions with Gemini image models.',
        '',
        'Settings resolve flag → environment → job file → default. Environment:',
        '  GEMINI_API_KEY (or GOOGLE_API_KEY), GEMINI_BASE_URL, REDIS_URL,',
        '  BUNCH_PREFIX, BUNCH_CONCURRENCY, BUNCH_LOG_LEVEL,',
        '  BUNCH_LOCK_DURATION_MS, BUNCH_STALLED_INTERVAL_MS,',
        '  BUNCH_SHUTDOWN_GRACE_MS (worker drain on SIGTERM, default 30000),',
        '  BUNCH_FOLLOW_OUTAGE_LIMIT_MS (--wait through a Redis outage, default 600000),',
        '  BUNCH_S3_ENDPOINT (or AWS_ENDPOINT_URL_S3), AWS_REGION,',
        '  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,',
        '  BUNCH_S3_FORCE_PATH_STYLE, BUNCH_S3_CHECKSUM_MODE,',
        '  BUNCH_S3_CONNECT_TIMEOUT_MS (default 5000),',
        '  BUNCH_S3_REQUEST_TIMEOUT_MS (default 60000, of inactivity),',
        '  BUNCH_REFERENCES_ALLOW_PRIVATE (1: reference images from private addresses).',
        'Exit codes: 0 success, 1 run failed/cancelled/aborted,',
        '  2 bad input, 3 infrastructure.',
      ].join('\n'),
    )
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  registerRunCommand(program, setExitCode);
  registerWorkerCommand(program, setExitCode);
  registerStatusCommand(program, setExitCode);
  registerCancelCommand(program);
  registerLogsCommand(program);
  registerRetryCommand(program, setExitCode);
  registerScheduleCommand(program);
  registerManifestCommand(program);
  registerGalleryCommand(program);
  registerServeCommand(program);
  registerModelsCommand(program);
  registerDemoCommand(program, setExitCode);
  registerEmulatorCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // The AWS SDK warns on every start under Node 20 that it will require Node 22; bunch supports 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (error instanceof BunchError) {
      const where = formatLocation(error.location);
      const message = error.message.includes(where) || !where ? error.message : `${where}: ${error.message}`;
      process.stderr.write(`bunch: ${error.code}: ${redactSecrets(message)}\n`);
      return exitCodeForError(error.code);
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`bunch: E_INTERNAL: ${redactSecrets(message)}\n`);
    return EXIT.infrastructure;
  }
}

const invokedDirectly = process.argv[1] !== undefined && /(?:^|[\\/])main\.[jt]s$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv).then(
    (code) => process.exit(code),
    () => process.exit(EXIT.infrastructure),
  );
}
