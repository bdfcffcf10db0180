/**
 * Process entry point of one worker, for process managers that start a file rather than a
 * command: `node dist/workers/worker.js -c 16` is `bunch worker -c 16` (same flags, same
 * environment, same drain on SIGTERM; see `bunch worker --help`). The wiring itself lives in
 * `src/workers/`; the CLI decides the exit code.
 */
import { main } from '../src/cli/main.js';

process.exit(await main([process.argv[0] ?? 'node', 'bunch', 'worker', ...process.argv.slice(2)]));
