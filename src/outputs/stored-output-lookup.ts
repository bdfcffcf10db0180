import { outputsAtPlannedKeys } from './outputs-at-planned-keys.js';
import type { Logger } from 'pino';
import { errorCodeOf } from '../errors/bunch-error.js';
import { RESULT_MARKER_PREFIX } from '../plan/item-identity.js';
import type { ItemTarget } from '../plan/planned-item.js';
import { SortedDigests } from '../digests/sorted-digests.js';
import { RESERVED_KEY_PREFIX } from '../storage/reserved-key-prefix.js';
import type { ObjectStore } from '../storage/object-store.js';
import { LoadedStoredIndex, MAX_LISTED_ROOTS } from './loaded-stored-index.js';
import { PresencePrefetch } from './presence-prefetch.js';
import type { OutputMarker } from './output-marker.js';
import { entryOutputKeys, markerOfEntry, type StoredIndexEntry } from './stored-index-entry.js';
import { readStoredIndexPointer } from './stored-index-pointer.js';
import { readStoredOutput } from './store-item-output.js';
import { staleOutputs } from './stale-outputs.js';

/** Where runs keep their own files (manifests, record segments, galleries): never outputs. */
const RUN_FILES_PREFIX = 'runs/';

export interface LookupStats {
  /** Items found stored from the index alone (no request). */
  fromIndex: number;
  /** Items decided absent because their marker was not listed (no request). */
  notListed: number;
  /** Marker GETs (items the index does not vouch for, or no index). */
  markerReads: number;
  /** HEADs of outputs an index entry named but the listing did not show. */
  outputChecks: number;
  /** Markers deleted because an output they name is gone (the item is generated again). */
  staleMarkers: number;
  /** Objects checked one by one with the store's existsSync (a local directory) instead of listed. */
  existsChecks: number;
  /** Items whose objects a second thread had found already (PresencePrefetch; local directory). */
  prefetched: number;
  /** Time spent loading the index and listing storage before the first item (ms). */
  loadMs: number;
  listMs: number;
}

export interface LookupOptions {
  jobName: string;
  /** Delete a marker whose outputs are gone (a real run); a dry run only reports. */
  repair: boolean;
  logger?: Logger;
  /** Where the index's temp copy goes (default the OS temp directory). */
  tempRoot?: string;
}

/**
 * Planning's question "are this item's outputs stored?", answered for a million rows with few
 * storage requests. At the start: the job's stored-output index (one GET) and one streamed LIST
 * of the result markers and of the folders the index's outputs are in — or, on a store that
 * answers `existsSync` (a local directory), no listing: the objects of each item the index names
 * are checked one stat each when the item comes (cheaper than reading a folder per row, and no
 * list of a million keys in memory). "Listed" below then means "exists now". Then, per item:
 *   - the index has its (itemKey, inputHash), and its marker and outputs were all listed: stored,
 *     answered from the index (no request);
 *   - the index has it but something it names was not listed: the index disagrees with storage —
 *     read the marker and HEAD its outputs; a marker whose output is gone is deleted so the item
 *     is generated again (a listing that merely missed a key costs requests, never a paid call);
 *   - its marker was not listed: not stored (no request; should a listing miss a marker, the
 *     worker's own marker read before the call still finds it);
 *   - otherwise (a changed or new row whose marker exists, an item a retry made): read the
 *     marker and HEAD its outputs, as when the index disagrees.
 * A HEAD also tells an output made for another input (a key template without `{{hash}}`: a row
 * that changed A → B → A finds A's marker beside B's image): stale like a missing one.
 * Without a listing (LIST refused, storage trouble) every item falls back to the checked marker read.
 */
export class StoredOutputLookup {
  private constructor(
    private readonly store: ObjectStore,
    private readonly options: LookupOptions,
    private readonly index: LoadedStoredIndex | undefined,
    private readonly presence: Presence | undefined,
    readonly stats: LookupStats,
    private readonly prefetch: PresencePrefetch | undefined,
  ) {}

  static async open(store: ObjectStore, options: LookupOptions): Promise<StoredOutputLookup> {
    const started = performance.now();
    const stats: LookupStats = { fromIndex: 0, notListed: 0, markerReads: 0, outputChecks: 0, staleMarkers: 0, existsChecks: 0, prefetched: 0, loadMs: 0, listMs: 0 };
    const pointer = await readStoredIndexPointer(store, options.jobName);
    // An index that cannot be read whole (cut off, hand-edited, storage trouble mid-stream) is
    // ignored: planning then reads markers as it would without one, never trusts half an index.
    // A store that answers existsSync is checked object by object: no listing, no named outputs.
    const existsSync = store.existsSync?.bind(store);
    const loadOptions = { namedOutputs: existsSync === undefined, ...(options.tempRoot ? { tempRoot: options.tempRoot } : {}) };
    const index = pointer
      ? await LoadedStoredIndex.load(store, pointer, loadOptions).catch((error: unknown) => {
          options.logger?.warn({ code: errorCodeOf(error), index: pointer.index, err: error }, 'stored-output index unreadable; planning reads each item\'s marker');
          return undefined;
        })
      : undefined;
    const loaded = performance.now();
    try {
      let presence: Presence | undefined;
      let prefetch: PresencePrefetch | undefined;
      if (existsSync) {
        presence = checkedPresence(existsSync, stats);
        // Files on this machine: a second thread stats what the index names while planning runs.
        if (index && store.localDirectory !== undefined && index.entries > 0) {
          try {
            prefetch = PresencePrefetch.start({ indexFile: index.file, root: store.localDirectory, entries: index.entries, ...(options.logger ? { logger: options.logger } : {}) });
          } catch (error) {
            // No second thread (a worker could not be started here): the planning thread stats everything.
            options.logger?.debug({ err: error }, 'presence prefetch not started');
          }
        }
      } else {
        const listing = await listStored(store, index).catch((error: unknown) => {
          options.logger?.warn({ code: errorCodeOf(error), err: error }, 'could not list stored outputs; planning reads each item\'s marker');
          return undefined;
        });
        if (listing) presence = listedPresence(listing, index);
      }
      stats.loadMs = Math.round(loaded - started);
      stats.listMs = Math.round(performance.now() - loaded);
      return new StoredOutputLookup(store, options, index, presence, stats, prefetch);
    } catch (error) {
      await index?.close();
      throw error;
    }
  }

  /** True when the index was found and can vouch for items. */
  get indexed(): boolean {
    return this.index !== undefined && this.presence !== undefined;
  }

  async markerOf(item: ItemTarget): Promise<OutputMarker | undefined> {
    const presence = this.presence;
    if (!presence) return this.readChecked(item);
    const number = this.index?.numberOf(item.itemKey);
    const entry = number === undefined ? undefined : this.index?.entryAt(number, item.itemKey);
    if (number !== undefined && entry && entry.inputHash === item.inputHash && outputsAtPlannedKeys(entry, item)) {
      if (this.prefetched(number) || (presence.marker(item.markerKey) && presence.outputs(entry))) {
        this.stats.fromIndex += 1;
        return markerOfEntry(entry, (key) => this.store.uriFor(key));
      }
      return this.readChecked(item);
    }
    if (!presence.marker(item.markerKey)) {
      this.stats.notListed += 1;
      return undefined;
    }
    // A marker the index does not vouch for (a changed row flipping back, an item a retry made,
    // no index at all) is checked against its outputs like one the index disagrees with.
    return this.readChecked(item);
  }

  async close(): Promise<void> {
    await this.prefetch?.close();
    await this.index?.close();
  }

  /** Settles when the second thread (if any) has looked at every entry: for tests and benchmarks. */
  async prefetchFinished(): Promise<void> {
    await this.prefetch?.finished;
  }

  /** The second thread found all of this entry's objects (the entry's marker is the item's: same inputHash). */
  private prefetched(number: number): boolean {
    if (!this.prefetch?.present(number)) return false;
    this.stats.prefetched += 1;
    return true;
  }

  private async readMarker(item: ItemTarget): Promise<OutputMarker | undefined> {
    this.stats.markerReads += 1;
    return readStoredOutput(this.store, item);
  }

  /**
   * The marker, only if every output it names is there and was made for its input (HEAD each,
   * stale-outputs.ts); a lying marker is removed.
   */
  private async readChecked(item: ItemTarget): Promise<OutputMarker | undefined> {
    const marker = await this.readMarker(item);
    if (!marker) return undefined;
    const { checked, stale } = await staleOutputs(this.store, marker);
    this.stats.outputChecks += checked;
    if (stale.length === 0) return marker;
    this.stats.staleMarkers += 1;
    if (this.options.repair) {
      await this.store.delete(item.markerKey);
      this.options.logger?.warn({ itemKey: item.itemKey, stale }, 'a stored output is gone or was made for another input: its marker is removed and the item generated again');
    }
    return undefined;
  }
}

/**
 * What the lookup knows is in storage: is this marker there; are all of an entry's outputs there.
 * From listings made at the start, or (a local directory) from a stat of each object when asked.
 */
interface Presence {
  marker(key: string): boolean;
  outputs(entry: StoredIndexEntry): boolean;
}

function checkedPresence(existsSync: (key: string) => boolean, stats: LookupStats): Presence {
  const exists = (key: string) => {
    stats.existsChecks += 1;
    try {
      return existsSync(key);
    } catch {
      // A key the store refuses (a hand-edited index: `../x`, not a string): the entry vouches for
      // nothing, and the item's own marker decides — as on S3, where such a key is never listed.
      return false;
    }
  };
  return { marker: exists, outputs: (entry) => entryOutputKeys(entry).every(exists) };
}

function listedPresence(listing: { markers: SortedDigests; seenOutputs: Uint8Array }, index: LoadedStoredIndex | undefined): Presence {
  return {
    marker: (key) => listing.markers.has(key),
    outputs: (entry) =>
      index !== undefined &&
      entryOutputKeys(entry).every((key) => {
        const position = index.namedOutputs.indexOf(key);
        return position !== -1 && bitIsSet(listing.seenOutputs, position);
      }),
  };
}

/**
 * One streamed LIST of the markers, and of the folders the index's outputs are in: each folder
 * when there are a few (`images/`, `captions/`), else the whole output location once, without
 * the run files and bookkeeping (`runs/`, `_bunch/`) — the default key template puts every row in
 * a top-level folder of its own.
 */
async function listStored(store: ObjectStore, index: LoadedStoredIndex | undefined): Promise<{ markers: SortedDigests; seenOutputs: Uint8Array }> {
  const markers = new SortedDigests();
  const seenOutputs = new Uint8Array(Math.ceil((index?.namedOutputs.size ?? 0) / 8));
  for await (const key of store.list(RESULT_MARKER_PREFIX)) markers.add(key);
  if (index && index.namedOutputs.size > 0) {
    const roots = [...index.outputRoots];
    const whole = roots.length > MAX_LISTED_ROOTS || roots.includes('');
    const listings = whole ? [store.list('', { skip: [RUN_FILES_PREFIX, RESERVED_KEY_PREFIX] })] : roots.map((root) => store.list(root));
    for (const listing of listings) {
      for await (const key of listing) {
        const position = index.namedOutputs.indexOf(key);
        if (position !== -1) seenOutputs[position >> 3] = (seenOutputs[position >> 3] as number) | (1 << (position & 7));
      }
    }
  }
  return { markers: markers.seal(), seenOutputs };
}

function bitIsSet(bits: Uint8Array, position: number): boolean {
  return (((bits[position >> 3] as number) >> (position & 7)) & 1) === 1;
}
