/**
 * A planner in a process of its own, for drills that kill it mid-planning: plans the job file
 * `argv[2]` with REDIS_URL / BUNCH_PREFIX from the environment and a planner lease of `argv[3]` ms.
 */
import { openControlPlane } from '../../src/cli/control-plane.js';
import { startRun } from '../../src/lanes/start-run.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { loadJobFile } from '../../src/spec/load-job-file.js';
import { openObjectStore } from '../../src/storage/open-object-store.js';

const [jobFile, leaseMs] = process.argv.slice(2);
const plane = await openControlPlane(process.env.REDIS_URL as string, process.env.BUNCH_PREFIX as string);
const job = await loadJobFile(jobFile as string);
await startRun(job, { runs: plane.runs, queues: plane.queues, openStore: (url) => openObjectStore(url), logger: silentLogger() }, { plannerLeaseMs: Number(leaseMs) });
await plane.close();
