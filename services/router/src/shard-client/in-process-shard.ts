// @module A shard in the router's own process (world size 1, `tessera serve`): the ShardConnection calls its handlers directly, no gRPC hop.
import type {
  Batch,
  CachedBatch,
  DecodeResponse,
  HealthResponse,
  InfoResponse,
  PrefillResponse,
  ShardHandlers,
  WarmupRequest,
  WarmupResponse,
} from '@tessera/protocol';
import { type DecodeStream, ShardError, type ShardConnection, StepQueue } from './shard-client.ts';

/**
 * The handlers a gRPC shard would serve, called in place: requests and replies still cross to the
 * runner thread by structured clone, so neither side can alias the other's objects, and failures
 * read as a remote shard's would (a ShardError naming the method, with the status code its gRPC form
 * would carry). `handlers` may still be loading: calls wait for it, as a channel waits for its shard.
 */
export class InProcessShard implements ShardConnection {
  readonly uri = 'in-process';
  readonly #handlers: Promise<ShardHandlers>;
  /** Once loaded, calls go straight in (the request is cloned to the runner thread before the caller's next statement). */
  #loaded: ShardHandlers | null = null;
  #closed = false;

  constructor(handlers: Promise<ShardHandlers>) {
    this.#handlers = handlers;
    // A load that fails surfaces through waitForReady and the calls; never as an unhandled rejection.
    handlers.then(
      (h) => (this.#loaded = h),
      () => undefined,
    );
  }

  async waitForReady(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ShardError(this.uri, 'connect', null, `not loaded within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.#handlers.catch((err: unknown) => Promise.reject(this.#failure('connect', err))), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  info(): Promise<InfoResponse> {
    return this.#call('Info', (h) => h.info());
  }

  health(): Promise<HealthResponse> {
    return this.#call('Health', (h) => h.health());
  }

  warmup(req: WarmupRequest): Promise<WarmupResponse> {
    return this.#call('Warmup', (h) => h.warmup(req));
  }

  prefill(batch: Batch): Promise<PrefillResponse> {
    return this.#call('Prefill', (h) => h.prefill({ batch }));
  }

  decode(batches: CachedBatch[]): Promise<DecodeResponse> {
    return this.#call('Decode', (h) => h.decode({ batches }));
  }

  decodeStream(batches: CachedBatch[]): DecodeStream {
    const steps = new StepQueue<DecodeResponse>();
    let open = true;
    let handle: ReturnType<ShardHandlers['decodeStream']> | null = null;
    // As the gRPC stream does: a half-close stops the loop after the step in flight.
    const stop = () => handle?.control({ dropRequestIds: [], stop: true });
    const start = (h: ShardHandlers) => {
      try {
        handle = h.decodeStream({ batches }, (step) => steps.push(step));
      } catch (err) {
        steps.end(this.#failure('DecodeStream', err));
        return;
      }
      if (!open) stop();
      handle.done.then(
        () => steps.end(null),
        (err: unknown) => steps.end(this.#failure('DecodeStream', err)),
      );
    };
    if (this.#loaded !== null && !this.#closed) start(this.#loaded);
    else this.#ready('DecodeStream').then(start, (err: Error) => steps.end(err));
    return {
      steps,
      control: (c) => {
        if (open) handle?.control(c);
      },
      close: () => {
        if (open) stop();
        open = false;
      },
    };
  }

  async filterBatch(batchId: number, requestIds: number[]): Promise<CachedBatch | null> {
    return (await this.#call('FilterBatch', (h) => h.filterBatch({ batchId, requestIds }))).batch;
  }

  async clearCache(id?: number): Promise<void> {
    await this.#call('ClearCache', (h) => h.clearCache({ id: id ?? null }));
  }

  /** The router is done with the shard; whoever started it stops it (its runner thread). */
  close(): void {
    this.#closed = true;
  }

  async #ready(method: string): Promise<ShardHandlers> {
    if (this.#closed) throw new ShardError(this.uri, method, null, 'the connection is closed');
    try {
      return await this.#handlers;
    } catch (err) {
      throw this.#failure(method, err);
    }
  }

  async #call<T>(method: string, fn: (h: ShardHandlers) => Promise<T>): Promise<T> {
    const h = this.#loaded !== null && !this.#closed ? this.#loaded : await this.#ready(method);
    try {
      return await fn(h);
    } catch (err) {
      throw this.#failure(method, err);
    }
  }

  #failure(method: string, err: unknown): ShardError {
    if (err instanceof ShardError) return err;
    const e = err as { message?: string; grpcCode?: number };
    return new ShardError(this.uri, method, e.grpcCode ?? null, e.message ?? String(err));
  }
}
