import { createHash } from 'node:crypto';
import type { OutputMarker } from '../../outputs/output-marker.js';
import type { ItemTarget } from '../../plan/planned-item.js';
import { baseRecord, readStoredOutput, recordFromMarker } from '../../outputs/store-item-output.js';
import { staleOutputs } from '../../outputs/stale-outputs.js';
import { completeDependant } from '../../plan/complete-dependant.js';
import type { GenerateContentRequest } from '../../gemini/generate-content-request.js';
import type { StoredReference } from '../../references/item-reference.js';
import { referenceObjectKey } from '../../references/reference-object-key.js';
import type { ItemRecord, Lane } from '../../runs/item-record.js';
import type { RunStore } from '../../runs/run-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { recordItem } from '../record-item.js';
import type { SyncWork } from '../enqueue-generate-jobs.js';
import { stopMessage } from '../stop-message.js';

export interface ReleaseDependantsDeps {
  runs: RunStore;
  store: ObjectStore;
  onRunComplete(runId: string): Promise<void>;
  /** Hands completed dependants to a lane (sync: enqueue; batch: the next shard wave). */
  route(work: SyncWork[]): Promise<void>;
  /** The lane recorded for dependants that end without a call. */
  lane: Lane;
  /** Who releases: `sync`, `plan`, or a batch shard's name (see RunStore.claimRelease). */
  owner: string;
}

export interface ReleaseOutcome {
  /** `elsewhere`: another owner releases this hero's dependants. */
  outcome: 'released' | 'failed' | 'cancelled' | 'elsewhere';
  /** Dependants recorded here (stored already, failed or cancelled); the rest were routed. */
  recorded: number;
  routed: number;
}

/**
 * Once a hero item is terminal, its dependants (`from: <hero>` variants of the same row) move on:
 *  - the run was told to stop → recorded cancelled;
 *  - the hero has no stored image (it failed, or was cancelled) → recorded failed `E_DEPENDENCY`,
 *    without a paid call;
 *  - else each is completed with the hero's image (copied to `_bunch/refs/<sha256>` so both lanes
 *    send it like any reference); one whose outputs are already stored is recorded from its
 *    marker, the rest are routed.
 * Exactly one owner releases a hero's dependants (RunStore.claimRelease); that owner may repeat
 * its release after a crash harmlessly (records are first-wins, routing uses deterministic job
 * ids and shard names).
 */
export async function releaseDependants(
  deps: ReleaseDependantsDeps,
  runId: string,
  hero: ItemTarget,
  dependants: readonly SyncWork[],
): Promise<ReleaseOutcome> {
  if (dependants.length === 0) return { outcome: 'released', recorded: 0, routed: 0 };
  if (!(await deps.runs.claimRelease(runId, hero.index, deps.owner))) return { outcome: 'elsewhere', recorded: 0, routed: 0 };
  const outcome = await releaseClaimed(deps, runId, hero, dependants);
  // Every dependant is recorded or handed to its lane: the sweep of failed jobs need not look again.
  await deps.runs.markReleased(runId, hero.index);
  return outcome;
}

async function releaseClaimed(deps: ReleaseDependantsDeps, runId: string, hero: ItemTarget, dependants: readonly SyncWork[]): Promise<ReleaseOutcome> {
  const { stop } = await deps.runs.getControl(runId);
  if (stop) {
    await recordAll(deps, runId, dependants, (target) => endedRecord(target, deps.lane, 'cancelled', stop, stopMessage(stop)));
    return { outcome: 'cancelled', recorded: dependants.length, routed: 0 };
  }
  const marker = await readStoredOutput(deps.store, hero);
  if (!marker?.image) {
    const why = `it is made from variant "${hero.variant}" of this row, which did not succeed`;
    await recordAll(deps, runId, dependants, (target) => endedRecord(target, deps.lane, 'failed', 'E_DEPENDENCY', why));
    return { outcome: 'failed', recorded: dependants.length, routed: 0 };
  }
  const heroImage = await storeHeroAsReference(deps.store, marker);
  if ('missing' in heroImage) {
    // A marker whose image is gone or altered (a lifecycle rule, a manual delete): nothing to make the variants from.
    const why = `it is made from variant "${hero.variant}" of this row, whose stored image ${heroImage.missing}`;
    await recordAll(deps, runId, dependants, (target) => endedRecord(target, deps.lane, 'failed', 'E_DEPENDENCY', why));
    return { outcome: 'failed', recorded: dependants.length, routed: 0 };
  }
  const toRoute: SyncWork[] = [];
  for (const work of dependants) {
    const completed = completeDependant(work.target, work.request as unknown as GenerateContentRequest, heroImage);
    const stored = await storedAndStanding(deps.store, completed.target);
    if (stored) {
      await recordItem(deps.runs, deps.store, runId, recordFromMarker(completed.target, stored, 'skipped', deps.lane, 0, runId), deps.onRunComplete);
    } else {
      toRoute.push({ target: completed.target, request: completed.request as unknown as Record<string, unknown> });
    }
  }
  await deps.route(toRoute);
  return { outcome: 'released', recorded: dependants.length - toRoute.length, routed: toRoute.length };
}

/**
 * The hero's image under `_bunch/refs/<sha256>`, checked against the marker's hash; `missing`
 * says why it cannot be (storage errors themselves propagate and are retried).
 */
async function storeHeroAsReference(store: ObjectStore, marker: OutputMarker): Promise<StoredReference | { missing: string }> {
  const image = marker.image as NonNullable<OutputMarker['image']>;
  const key = referenceObjectKey(image.sha256);
  if (!(await store.head(key))) {
    const bytes = await store.get(image.key);
    if (!bytes) return { missing: `${image.key} is missing` };
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== image.sha256) return { missing: `${image.key} no longer matches the hash its marker recorded` };
    await store.put(key, bytes, { contentType: image.mimeType, metadata: { sha256: image.sha256 } });
  }
  return { sha256: image.sha256, mimeType: image.mimeType, bytes: image.bytes, width: image.width, height: image.height };
}

async function recordAll(
  deps: ReleaseDependantsDeps,
  runId: string,
  dependants: readonly SyncWork[],
  make: (target: ItemTarget) => ItemRecord,
): Promise<void> {
  for (const { target } of dependants) await recordItem(deps.runs, deps.store, runId, make(target), deps.onRunComplete);
}

function endedRecord(target: ItemTarget, lane: Lane, status: 'failed' | 'cancelled', code: ItemRecord['errorCode'], message: string): ItemRecord {
  const record = baseRecord(target, lane, status, new Date().toISOString());
  if (code !== undefined) record.errorCode = code;
  record.errorMessage = message;
  return record;
}

/**
 * A variant's marker, only if its outputs are still there and made for its input (planning checks
 * a hero's the same way): a marker whose output is gone is removed, so the variant is made again
 * rather than skipped with a manifest line naming nothing.
 */
async function storedAndStanding(store: ObjectStore, target: ItemTarget): Promise<OutputMarker | undefined> {
  const marker = await readStoredOutput(store, target);
  if (!marker) return undefined;
  if ((await staleOutputs(store, marker)).stale.length === 0) return marker;
  await store.delete(target.markerKey);
  return undefined;
}
