// @module Fan-out to every shard with one stated reduction per RPC; any shard failure rejects the call.
import type { Batch, CachedBatch, DecodeResponse, InfoResponse, PrefillResponse, WarmupRequest, WarmupResponse } from '@tessera/protocol';
import { type DecodeStream, ShardClient, type ShardConnection, StepQueue } from './shard-client.ts';

/** What the batcher needs from the shards (the ShardedClient, or a fake in tests). */
export interface ShardApi {
  prefill(batch: Batch): Promise<PrefillResponse>;
  decode(batches: CachedBatch[]): Promise<DecodeResponse>;
  /** Continuous decode; absent where the shards are stepped one Decode at a time. */
  decodeStream?(batches: CachedBatch[]): DecodeStream;
  filterBatch(batchId: number, requestIds: number[]): Promise<CachedBatch | null>;
  clearCache(id?: number): Promise<void>;
}

/** One shard's answer to a Health probe: its process instance and warm-up state, or why it did not answer. */
export type ShardHealth = { ok: true; instanceId: string; warmedUp: boolean } | { ok: false; error: string };

export class ShardedClient implements ShardApi {
  /** Rank order: index 0 is rank 0, the shard that samples and returns generations. */
  #shards: ShardConnection[];

  /** gRPC addresses (HOST:PORT), or connections made elsewhere (a shard in this process). */
  constructor(shards: readonly (string | ShardConnection)[]) {
    if (shards.length === 0) throw new Error('ShardedClient needs at least one shard');
    this.#shards = shards.map((s) => (typeof s === 'string' ? new ShardClient(s) : s));
  }

  get size(): number {
    return this.#shards.length;
  }

  get uris(): string[] {
    return this.#shards.map((s) => s.uri);
  }

  #all<T>(fn: (s: ShardConnection) => Promise<T>): Promise<T[]> {
    return Promise.all(this.#shards.map(fn));
  }

  /** Waits for every channel, then orders the shards by the rank each reports. Returns rank 0's info. */
  async connect(timeoutMs: number): Promise<InfoResponse> {
    await this.#all((s) => s.waitForReady(timeoutMs));
    const infos = await this.#all((s) => s.info());
    const byRank = infos.map((info, i) => ({ info, shard: this.#shards[i]! })).sort((a, b) => a.info.rank - b.info.rank);
    byRank.forEach(({ info, shard }, i) => {
      if (info.rank !== i || info.worldSize !== this.#shards.length) {
        throw new Error(
          `shard ${shard.uri} reports rank ${info.rank} of ${info.worldSize}; expected ranks 0..${this.#shards.length - 1} of ${this.#shards.length}`,
        );
      }
    });
    this.#shards = byRank.map((x) => x.shard);
    return byRank[0]!.info;
  }

  /** Every shard's reply, in rank order (after connect). */
  async infoAll(): Promise<InfoResponse[]> {
    return this.#all((s) => s.info());
  }

  /** First reply (rank 0). */
  async info(): Promise<InfoResponse> {
    return (await this.#all((s) => s.info()))[0]!;
  }

  /** Every shard must answer. */
  async health(): Promise<void> {
    await this.#all((s) => s.health());
  }

  /** Probes every shard; per shard (rank order) its instance and warm-up state, or the error. */
  async healthEach(): Promise<ShardHealth[]> {
    return Promise.all(
      this.#shards.map((s) =>
        s.health().then(
          (h): ShardHealth => ({ ok: true, instanceId: h.instanceId, warmedUp: h.warmedUp }),
          (err: unknown): ShardHealth => ({ ok: false, error: (err as Error).message ?? String(err) }),
        ),
      ),
    );
  }

  /** The smallest capacity wins: a batch must fit on every shard. */
  async warmup(req: WarmupRequest): Promise<WarmupResponse> {
    const all = await this.#all((s) => s.warmup(req));
    return all.reduce((min, r) => (r.numBlocks < min.numBlocks ? r : min));
  }

  /** Generations from rank 0 (other ranks may return none). */
  async prefill(batch: Batch): Promise<PrefillResponse> {
    return (await this.#all((s) => s.prefill(batch)))[0]!;
  }

  async decode(batches: CachedBatch[]): Promise<DecodeResponse> {
    return (await this.#all((s) => s.decode(batches)))[0]!;
  }

  /**
   * One stream per shard. Rank 0's steps are the generations, and only rank 0 takes controls (it
   * shares them with the others at a step boundary); the stream ends once every shard's has.
   */
  decodeStream(batches: CachedBatch[]): DecodeStream {
    const streams = this.#shards.map((s) => s.decodeStream(batches));
    const out = new StepQueue<DecodeResponse>();
    const drain = async (stream: DecodeStream, forward: boolean) => {
      for await (const step of stream.steps) if (forward) out.push(step);
    };
    const [first, ...others] = streams;
    Promise.all([drain(first!, true), ...others.map((s) => drain(s, false))]).then(
      () => out.end(null),
      (err: unknown) => {
        for (const s of streams) s.close();
        out.end(err as Error);
      },
    );
    return {
      steps: out,
      control: (c) => first!.control(c),
      close: () => {
        for (const s of streams) s.close();
      },
    };
  }

  /** First reply (all shards keep the same subset). */
  async filterBatch(batchId: number, requestIds: number[]): Promise<CachedBatch | null> {
    return (await this.#all((s) => s.filterBatch(batchId, requestIds)))[0]!;
  }

  /** Every shard must clear. */
  async clearCache(id?: number): Promise<void> {
    await this.#all((s) => s.clearCache(id));
  }

  close(): void {
    for (const s of this.#shards) s.close();
  }
}
