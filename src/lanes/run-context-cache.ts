import type { RunConfig } from '../runs/run-config.js';
import type { RunStore } from '../runs/run-store.js';
import type { ObjectStore } from '../storage/object-store.js';

export type ObjectStoreOpener = (url: string) => ObjectStore;

export interface RunContext {
  config: RunConfig;
  store: ObjectStore;
}

/**
 * A worker serves many runs; their configs never change once written, so each is read from Redis
 * once per process. Object stores are shared per output URL (one S3 client per bucket/prefix).
 */
export class RunContextCache {
  private readonly contexts = new Map<string, Promise<RunContext>>();
  private readonly stores = new Map<string, ObjectStore>();

  constructor(
    private readonly runs: RunStore,
    private readonly openStore: ObjectStoreOpener,
    private readonly capacity = 256,
  ) {}

  get(runId: string): Promise<RunContext> {
    let context = this.contexts.get(runId);
    if (!context) {
      context = this.load(runId);
      context.catch(() => this.contexts.delete(runId));
      if (this.contexts.size >= this.capacity) {
        const oldest = this.contexts.keys().next().value;
        if (oldest !== undefined) this.contexts.delete(oldest);
      }
      this.contexts.set(runId, context);
    }
    return context;
  }

  storeFor(url: string): ObjectStore {
    let store = this.stores.get(url);
    if (!store) {
      store = this.openStore(url);
      this.stores.set(url, store);
    }
    return store;
  }

  private async load(runId: string): Promise<RunContext> {
    const config = await this.runs.getConfig(runId);
    return { config, store: this.storeFor(config.outputUrl) };
  }

  async close(): Promise<void> {
    await Promise.all([...this.stores.values()].map((store) => store.close()));
    this.stores.clear();
    this.contexts.clear();
  }
}
