import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { readCatalog } from '../catalog/read-catalog.js';
import { keepRenewed } from '../redis/keep-renewed.js';
import { BunchError, errorCodeOf } from '../errors/bunch-error.js';
import { redactSecrets } from '../errors/redact-secrets.js';
import { rejectedLine } from '../manifest/rejected-line.js';
import { RejectedLog } from '../manifest/rejected-log.js';
import type { RowRejection } from '../catalog/catalog-event.js';
import { recordFromMarker } from '../outputs/store-item-output.js';
import { StoredOutputLookup, type LookupStats } from '../outputs/stored-output-lookup.js';
import { planItems, type PlanItemsOptions } from '../plan/plan-items.js';
import { ReferenceResolver } from '../references/reference-resolver.js';
import type { RunConfig } from '../runs/run-config.js';
import type { ObjectStore } from '../storage/object-store.js';
import { newRunId } from '../runs/run-id.js';
import { runConfigFromJob } from '../runs/run-config-from-job.js';
import { runObjectKeys } from '../runs/run-keys.js';
import type { RunStore } from '../runs/run-store.js';
import type { Lane, ResolvedJob } from '../spec/resolved-job.js';
import { enqueueShard } from './batch/batch-queue.js';
import { AUTO_BATCH_MIN_ITEMS, deadlineAllowsBatch, plannedShardName, type AutoLaneOptions } from './batch/lane-choice.js';
import { newShardState, writeShardState } from './batch/shard-state.js';
import { ShardWriter } from './batch/shard-writer.js';
import { releaseDependants } from './dependants/release-dependants.js';
import { itemTargetOf, type SyncWork } from './enqueue-generate-jobs.js';
import { requestFeed } from './sync/feed-job.js';
import { PlannedFeedWriter } from './sync/planned-feed.js';
import type { ItemSelection } from '../plan/select-items.js';
import { planRun, type StoredItem } from './plan-run.js';
import { recordItems } from './record-item.js';
import { SkipSegments } from './skip-segments.js';
import type { ObjectStoreOpener } from './run-context-cache.js';
import { requestFinalize, type RunQueues } from './run-queues.js';
import { strictModeError } from './strict-mode-error.js';

export interface StartRunDeps {
  runs: RunStore;
  queues: RunQueues;
  openStore: ObjectStoreOpener;
  logger: Logger;
  /** The batch lane's queue; opened on the sync queues' connection when absent. */
  /**
   * Checks the job's model against the API before anything exists (preflight-model.ts); throws to
   * refuse the run. Absent: no check (tests, `bunch run --no-preflight`).
   */
  preflight?: (model: string, lane: Lane) => Promise<void>;
}

export interface StartRunOptions extends AutoLaneOptions {
  runId?: string;
  /** Reference images may come from private and loopback addresses (`BUNCH_REFERENCES_ALLOW_PRIVATE=1`). */
  allowPrivateReferences?: boolean;
  /** Only these items (`bunch retry`), and the run they come from. */
  select?: ItemSelection;
  parentRunId?: string;
  /** How long the planner's lease on the run lasts without a renewal (default PLANNER_LEASE_MS). */
  plannerLeaseMs?: number;
  /** Told once the run exists in Redis (before planning): a caller may show it while it is planned. */
  onCreated?: (runId: string) => void;
}

/**
 * A planner renews its lease on the run it plans every quarter of this; one whose lease lapsed
 * (its process died) no longer keeps the run active for its job's schedule. Generous against
 * clock skew between the planner's machine and the one that reads the lease.
 */
export const PLANNER_LEASE_MS = 2 * 60_000;

export interface StartedRun {
  runId: string;
  outputUrl: string;
  items: number;
  /** Items handed to the sync lane: queued at once, or waiting in storage for room in the queue. */
  enqueued: number;
  /** Of `enqueued`, those that wait in storage (the queue's window was full). */
  waitingInStorage: number;
  skipped: number;
  rejected: number;
  /** The lane the run's items went to (`auto` resolved); `batch` runs may still spill to sync. */
  lane: 'sync' | 'batch';
  /** Items written to batch shards, and how many shards. */
  batched: number;
  shards: number;
  /** Distinct reference image locations fetched while planning. */
  referencesFetched: number;
  /** How planning learnt what is stored: from the index, listings, marker reads (stored-output-lookup.ts). */
  storage?: LookupStats;
}

/**
 * Starts a run: checks the model (deps.preflight), streams the catalog through planning, records items whose outputs already exist
 * in storage as `skipped` (nothing to pay for), enqueues the rest with deterministic job ids,
 * lists rejected rows, and marks the run planned. Workers may start on the first chunk while the
 * catalog is still being read.
 */
export async function startRun(job: ResolvedJob, deps: StartRunDeps, options: StartRunOptions = {}): Promise<StartedRun> {
  // Before the run exists: a refused key or a missing model leaves nothing behind to clean up.
  // Every variant is generated with the job's model (variants carry no model of their own).
  // models.get is a Gemini-native method: a gateway's OpenAI or Claude endpoint has no answer to
  // it, so runs on those protocols learn about their key and model from the first call.
  if (job.protocol === 'gemini') await deps.preflight?.(job.model, job.lane);
  const runId = options.runId ?? newRunId(job.name);
  // Job ids are `<runId>.<index>` and `<runId>.batch.<shard>`; the sweep of the failed sets reads
  // the run back from them (sweep-given-up-jobs.ts), and BullMQ refuses ids holding `:`.
  if (!/^[A-Za-z0-9_-]+$/.test(runId)) throw new BunchError('E_CONFIG', `run id "${runId.slice(0, 80)}" may hold only letters, digits, "-" and "_"`);
  const config = runConfigFromJob(job, runId, new Date());
  const store = deps.openStore(config.outputUrl);
  const resolver = job.references
    ? new ReferenceResolver({ settings: job.references, store, openStore: deps.openStore, allowPrivate: options.allowPrivateReferences ?? false })
    : undefined;
  try {
    return await planAndDispatch(job, deps, options, { runId, config, store, resolver });
  } finally {
    await resolver?.close();
  }
}

async function planAndDispatch(
  job: ResolvedJob,
  deps: StartRunDeps,
  options: StartRunOptions,
  context: { runId: string; config: RunConfig; store: ObjectStore; resolver: ReferenceResolver | undefined },
): Promise<StartedRun> {
  const { runId, config, store, resolver } = context;
  const planOptions = resolver ? { references: resolver } : {};
  if (job.strict) await assertNoRejectedRows(job, planOptions);
  const { runs, queues } = deps;
  const onRunComplete = (id: string) => requestFinalize(queues.finalize, id);

  const leaseMs = options.plannerLeaseMs ?? PLANNER_LEASE_MS;
  await runs.createRun(config, Date.now() + leaseMs);
  if (options.parentRunId) await runs.setExtra(runId, 'parentRunId', options.parentRunId);
  options.onCreated?.(runId);
  if (config.sync.requestsPerMinute !== undefined) {
    // Queue-wide: the quota belongs to the API key, which every run on this queue shares.
    await queues.generate.setGlobalRateLimit(config.sync.requestsPerMinute, 60_000);
  }
  if (config.sync.globalConcurrency !== undefined) await queues.generate.setGlobalConcurrency(config.sync.globalConcurrency);
  await runs.setStatus(runId, 'running');
  // While it plans, the planner renews its lease: a planner that died is told from a slow one.
  await runs.holdPlannerLease(runId, Date.now() + leaseMs);
  // A lease lost while planning (this process stalled past it, and a fleet took the run over:
  // adopt-orphaned-runs.ts) ends planning here: the run is stopped, and the fleet ends it.
  let leaseLost = false;
  const stopRenewing = keepRenewed(() => runs.holdPlannerLease(runId, Date.now() + leaseMs), leaseMs / 4, () => (leaseLost = true));

  // Rejected rows written out so far: what the run lists should a fleet end it (adopt-orphaned-runs.ts).
  const rejections = new RejectedLog(store, runId, undefined, (lines, parts) => runs.noteRejectedParts(runId, lines, parts));
  const skips = new SkipSegments(runs, store, runId, onRunComplete);
  let items = 0;
  let enqueued = 0;
  let skipped = 0;
  /** Dependants riding on heroes handed to the sync lane (released by the hero's job). */
  let dependantsInSync = 0;
  /** Items in shards handed to the batch queue, dependants included (an open shard's are not dispatched yet). */
  let dispatchedToBatch = 0;

  // A chunk is dispatched as one: stored items are recorded skipped (their dependants completed
  // and sent on), the rest routed to the lane.
  const dispatch = async (stored: StoredItem[], generate: SyncWork[]) => {
    const toRoute: SyncWork[] = [...generate];
    // Skips of outputs an earlier run paid for go to storage segments in bulk (a Redis call per
    // segment); any other (a marker of this very run, with its cost) is recorded as usual.
    const records = stored.map(({ item, marker }) => recordFromMarker(item, marker, 'skipped', 'sync', 0));
    await skips.add(records.filter((record) => SkipSegments.accepts(record)));
    const others = records.filter((record) => !SkipSegments.accepts(record));
    await recordItems(runs, store, runId, others, onRunComplete);
    skipped += others.length;
    for (const { item, dependants } of stored) {
      if (dependants.length === 0) continue;
      const released = await releaseDependants(
        { runs, store, onRunComplete, lane: 'sync', owner: 'plan', route: async (work) => void toRoute.push(...work) },
        runId,
        itemTargetOf(item),
        dependants,
      );
      skipped += released.recorded;
    }
    await route(toRoute);
  };

  // Lane dispatch. `auto` holds back up to `autoBatchMinItems` items still to generate: reaching
  // that many commits the run to batch (when the deadline is far enough); ending below sends them to sync.
  const autoMinItems = options.autoBatchMinItems ?? AUTO_BATCH_MIN_ITEMS;
  let lane: 'sync' | 'batch' | 'undecided' =
    job.lane === 'sync' ? 'sync' : job.lane === 'batch' ? 'batch' : deadlineAllowsBatch(config.batch.deadlineMs, options) ? 'undecided' : 'sync';
  let held: SyncWork[] = [];
  let heldItems = 0;
  let shardDir: string | undefined;
  let writer: ShardWriter | undefined;
  const openWriter = async (): Promise<ShardWriter> => {
    if (writer) return writer;
    shardDir = await mkdtemp(path.join(tmpdir(), 'bunch-plan-'));
    writer = new ShardWriter({
      runId,
      store,
      dir: shardDir,
      maxRequests: config.batch.maxRequestsPerBatch,
      shardName: plannedShardName,
      onShard: async (shard, count, digest, dependants) => {
        await writeShardState(runs, runId, newShardState(runId, shard, count, 0, digest));
        await enqueueShard(queues.batch, runId, shard);
        dispatchedToBatch += count + dependants;
      },
    });
    return writer;
  };
  // The queue holds at most a window of waiting jobs; the rest wait in storage for the feed job.
  const feed = new PlannedFeedWriter(queues.generate, config, store);
  const toSync = async (list: SyncWork[]) => {
    const queuedNow = await feed.add(list);
    enqueued += queuedNow.length;
    for (const unit of queuedNow) dependantsInSync += unit.dependants?.length ?? 0;
  };
  const toBatch = async (list: SyncWork[]) => {
    const shards = await openWriter();
    for (const work of list) await shards.add(work.target, work.request, work.dependants);
  };
  const route = async (list: SyncWork[]) => {
    if (list.length === 0) return;
    if (lane === 'sync') return toSync(list);
    if (lane === 'batch') return toBatch(list);
    held.push(...list);
    for (const unit of list) heldItems += 1 + (unit.dependants?.length ?? 0);
    if (heldItems >= autoMinItems) {
      lane = 'batch';
      const release = held;
      held = [];
      await toBatch(release);
    }
  };

  let lookup: StoredOutputLookup | undefined;
  let dispatching: Promise<void> = Promise.resolve();
  try {
    const selection = options.select ? { select: options.select } : {};
    lookup = await StoredOutputLookup.open(store, { jobName: job.name, repair: true, logger: deps.logger });
    const readMarker = lookup.markerOf.bind(lookup);
    // One chunk is dispatched while the next is planned: the planner's CPU and the round trips to
    // Redis and storage overlap. Chunks still reach the lanes in catalog order.
    for await (const step of planRun(job, { ...planOptions, ...selection, readMarker })) {
      if (step.kind === 'rejected') {
        await rejections.add(rejectedLine(runId, step.rejection));
        continue;
      }
      items += step.items;
      if (leaseLost) throw takenOver();
      await dispatching;
      dispatching = dispatch(step.stored, step.generate);
      // Awaited at the next chunk or after the loop; until then a failure must not go unhandled.
      dispatching.catch(() => undefined);
    }
    await dispatching;
    // Before what cannot be taken back (the last shard, the feed): a fleet may have taken the run
    // over while this process stalled, and then it ends the run with what was recorded.
    if (!(await runs.holdPlannerLease(runId, Date.now() + leaseMs))) throw takenOver();
    await skips.flush();
    if (lane === 'undecided') {
      lane = 'sync';
      await toSync(held);
      held = [];
    }
    await writer?.close();
    if (await feed.close()) {
      await runs.setFeedChunks(runId, feed.chunks);
      await requestFeed(queues.finalize, runId);
    }
  } catch (error) {
    // Planning broke off (catalog unreadable mid-way, storage or Redis down). Work already handed
    // out must not run on unsupervised: stop the run, count only what was dispatched, and let the
    // workers record those items cancelled so the run still finalizes (status `aborted`).
    // The chunk being dispatched when planning broke off counts as far as it got.
    await dispatching.catch(() => undefined);
    writer?.abort();
    // Skips not yet counted are counted now if storage and Redis let us; else they never were.
    await skips.flush().catch(() => undefined);
    // Items in storage chunks were never queued (the feed starts only after planning): not counted.
    await stopAfterPlanningFailure(deps, runId, error, enqueued + dependantsInSync + skipped + skips.recorded + dispatchedToBatch, rejections.count, onRunComplete);
    throw error;
  } finally {
    stopRenewing();
    await lookup?.close();
    if (shardDir) await rm(shardDir, { recursive: true, force: true });
  }
  skipped += skips.recorded;
  const chosen: 'sync' | 'batch' = lane === 'batch' ? 'batch' : 'sync';
  if (job.lane === 'auto') await runs.setExtra(runId, 'lane', chosen);

  const rejectedParts = await rejections.close();
  if (rejectedParts > 0) await runs.setExtra(runId, 'rejectedParts', String(rejectedParts));
  const planned = await runs.markPlanned(runId, items, rejections.count);
  if (planned === 'taken-over') throw takenOver();
  if (planned === 'complete') await onRunComplete(runId);
  const batched = writer?.items ?? 0;
  const shards = writer?.shards ?? 0;
  const referencesFetched = resolver?.fetched ?? 0;
  const waitingInStorage = feed.stored;
  enqueued += waitingInStorage;
  const storage = lookup?.stats;
  deps.logger.info({ runId, items, enqueued, waitingInStorage, skipped, batched, shards, lane: chosen, rejected: rejections.count, referencesFetched, storage }, 'run planned');
  return { runId, outputUrl: config.outputUrl, items, enqueued, waitingInStorage, skipped, rejected: rejections.count, lane: chosen, batched, shards, referencesFetched, ...(storage ? { storage } : {}) };
}

async function stopAfterPlanningFailure(
  deps: StartRunDeps,
  runId: string,
  error: unknown,
  dispatched: number,
  rejected: number,
  onRunComplete: (runId: string) => Promise<void>,
): Promise<void> {
  const code = errorCodeOf(error);
  try {
    await deps.runs.requestStop(runId, code);
    // Taken over by a fleet: its note on the run stands.
    if (code !== 'E_PLANNER_GONE') await deps.runs.setExtra(runId, 'planningError', redactSecrets(error instanceof Error ? error.message : String(error)).slice(0, 500));
    if ((await deps.runs.markPlanned(runId, dispatched, rejected)) === 'complete') await onRunComplete(runId);
    deps.logger.error({ runId, code, dispatched }, 'planning failed: the run is stopped');
  } catch (cleanup) {
    // Redis itself may be what failed; the original error is the one to report.
    deps.logger.error({ runId, err: cleanup }, 'could not mark the run stopped after its planning failed');
  }
}

/** Strict mode: read the catalog once without side effects and refuse the run if any row is bad. */
async function assertNoRejectedRows(job: ResolvedJob, options: PlanItemsOptions): Promise<void> {
  let count = 0;
  let first: RowRejection | undefined;
  for await (const event of planItems(job, readCatalog(job), options)) {
    if (event.kind !== 'rejected') continue;
    count += 1;
    first ??= event.rejection;
  }
  if (first) throw strictModeError(count, first);
}

/** This planner lost the run to a fleet (its lease lapsed while it stalled: adopt-orphaned-runs.ts). */
function takenOver(): BunchError {
  return new BunchError('E_PLANNER_GONE', 'planning stopped: this planner stalled past its lease on the run, and a worker fleet took the run over (it ends with the items handed out so far)');
}
