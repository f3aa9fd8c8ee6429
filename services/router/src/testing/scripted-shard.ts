// @module A scripted in-process shard for router unit tests: a real grpc-js server over a deterministic toy "model".
import {
  grpc,
  serviceDefinition,
  toServiceImplementation,
  CHANNEL_OPTIONS,
  type Batch,
  type CachedBatch,
  type ClearCacheRequest,
  type DecodeRequest,
  type DecodeResponse,
  type DecodeStreamControl,
  type DecodeStreamHandle,
  type FilterBatchRequest,
  type FilterBatchResponse,
  type FinishReason,
  type Generation,
  type HealthResponse,
  type InfoResponse,
  type PrefillRequest,
  type PrefillResponse,
  type Request,
  type ShardHandlers,
  type WarmupRequest,
  type WarmupResponse,
} from '@tessera/protocol';

export type ShardMethod = 'prefill' | 'decode' | 'filterBatch' | 'clearCache' | 'health';

export interface ScriptedShardOptions {
  vocabSize?: number;
  blockSize?: number;
  numBlocks?: number;
  maxPositionEmbeddings?: number;
  /** The toy model: next token from the whole context. Default: (last + 1) % vocabSize. */
  next?: (context: readonly number[]) => number;
  /** Delay of every prefill/decode step, to let requests pile up. Default 0. */
  stepDelayMs?: number;
  /** Delay of Warmup, to observe the router while it warms up. Default 0. */
  warmupDelayMs?: number;
  rank?: number;
  worldSize?: number;
  /**
   * > 0: every layer slides (Info reports it). The shard then keeps its tokens in a paged pool, as a
   * real one keeps K/V, and `next` sees only the window read back from the pool through the request's
   * blocks: a block the router released too early and gave to another request changes the output.
   */
  slidingWindow?: number;
}

export interface CallRecord {
  method: ShardMethod;
  /** Request ids the call touched (prefill: new batch; decode: all; filter: kept). */
  requestIds: number[];
  batchIds: number[];
  /** Prefill only: each request's cacheLen (prefix-cache hit length, or chunks already prefilled). */
  cacheLens?: number[];
  /** Prefill only: each request's chunkLen (0 = the whole rest of the prompt). */
  chunkLens?: number[];
}

interface SeqState {
  request: Request;
  context: number[];
  generated: number;
  finished: boolean;
  /** Context rows already in the token pool (sliding-window mode). */
  written: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ScriptedShard implements ShardHandlers {
  readonly opts: Required<Omit<ScriptedShardOptions, 'next'>> & { next: (c: readonly number[]) => number };
  readonly calls: CallRecord[] = [];
  /** Live batches by id (what a real shard keeps in its cache). */
  readonly batches = new Map<number, SeqState[]>();
  /** Make the next call of `method` fail with this message (once). */
  failNext: { method: ShardMethod; message: string } | null = null;
  /** Make every call of `method` fail with this message until cleared (the router's background probes call Health too). */
  failAlways: { method: ShardMethod; message: string } | null = null;
  /** What Health reports; `simulateRestart()` changes the id and clears the warm-up, as a new process would. */
  instanceId = 'scripted-1';
  warmedUp = false;
  /** Every Warmup request received (a re-warmup after a restart carries numBlocks). */
  readonly warmups: WarmupRequest[] = [];
  /** After simulateRestart(), Prefill fails until the next Warmup (as a real shard's does). */
  #restarted = false;
  /** Sliding-window mode: the token at each pool slot (block · blockSize + offset), -1 where never written. */
  readonly #pool: Int32Array;

  constructor(opts: ScriptedShardOptions = {}) {
    const vocabSize = opts.vocabSize ?? 512;
    this.opts = {
      vocabSize,
      blockSize: opts.blockSize ?? 16,
      numBlocks: opts.numBlocks ?? 64,
      maxPositionEmbeddings: opts.maxPositionEmbeddings ?? 2048,
      stepDelayMs: opts.stepDelayMs ?? 0,
      warmupDelayMs: opts.warmupDelayMs ?? 0,
      rank: opts.rank ?? 0,
      worldSize: opts.worldSize ?? 1,
      slidingWindow: opts.slidingWindow ?? 0,
      next: opts.next ?? ((c) => ((c[c.length - 1] ?? 0) + 1) % vocabSize),
    };
    this.#pool = new Int32Array(this.opts.numBlocks * this.opts.blockSize).fill(-1);
  }

  /** As if the process was killed and started again: batches gone, KV not allocated, a new instance id. */
  simulateRestart(): void {
    this.batches.clear();
    this.warmedUp = false;
    this.#restarted = true;
    this.#pool.fill(-1);
    this.instanceId = `scripted-${Number(this.instanceId.split('-')[1]) + 1}`;
  }

  /** Request ids held in live batches. */
  liveRequestIds(): number[] {
    return [...this.batches.values()].flat().map((s) => s.request.id);
  }

  #maybeFail(method: ShardMethod): void {
    if (this.failAlways?.method === method) throw new Error(this.failAlways.message);
    if (this.failNext?.method === method) {
      const { message } = this.failNext;
      this.failNext = null;
      throw new Error(message);
    }
  }

  async info(): Promise<InfoResponse> {
    const o = this.opts;
    return {
      modelId: 'scripted',
      architecture: 'LlamaForCausalLM',
      dtype: 'float32',
      deviceType: 'cpu',
      vocabSize: o.vocabSize,
      maxPositionEmbeddings: o.maxPositionEmbeddings,
      blockSize: o.blockSize,
      rank: o.rank,
      worldSize: o.worldSize,
      numLayers: 1,
      numKvHeads: 1,
      headDim: 1,
      weightTypes: 'F32×1',
      quantized: false,
      weightBytes: 0,
      slidingWindowAllLayers: o.slidingWindow,
      speculate: 0,
      instanceId: this.instanceId,
    };
  }

  async health(): Promise<HealthResponse> {
    this.#maybeFail('health');
    return { instanceId: this.instanceId, warmedUp: this.warmedUp };
  }

  async warmup(req: WarmupRequest): Promise<WarmupResponse> {
    this.warmups.push(req);
    const { numBlocks, blockSize } = this.opts;
    if (this.opts.warmupDelayMs > 0) await sleep(this.opts.warmupDelayMs);
    this.warmedUp = true;
    return { maxSupportedTotalTokens: numBlocks * blockSize, numBlocks, blockSize, kvCacheBytes: 0 };
  }

  /** Checks the router's KV contract: enough blocks, a real suffix to compute, no block written by two requests. */
  #checkBlocks(r: Request): void {
    const bs = this.opts.blockSize;
    const need = Math.ceil((r.inputIds.length + r.stoppingParameters.maxNewTokens) / bs);
    if (r.blocks.length < need) throw new Error(`request ${r.id}: ${r.blocks.length} blocks < ${need} needed`);
    if (r.cacheLen >= r.inputIds.length) throw new Error(`request ${r.id}: bad cacheLen ${r.cacheLen}`);
    if ((r.chunkLen ?? 0) > 0 && r.cacheLen + r.chunkLen! >= r.inputIds.length)
      throw new Error(`request ${r.id}: chunkLen ${r.chunkLen} reaches the prompt's end (must be 0 then)`);
    if (r.blocks.some((b) => b < 0 || b >= this.opts.numBlocks)) throw new Error(`request ${r.id}: block id out of range`);
    const written = new Set(r.blocks.slice(Math.floor(r.cacheLen / bs)));
    for (const s of [...this.batches.values()].flat()) {
      // A sliding window's blocks wholly behind the next query's window are no longer the request's.
      const behind = this.opts.slidingWindow > 0 ? Math.floor((s.context.length - this.opts.slidingWindow) / bs) : 0;
      const theirs = s.request.blocks.slice(Math.max(Math.floor(s.request.cacheLen / bs), behind));
      const clash = theirs.find((b) => written.has(b));
      if (clash !== undefined) throw new Error(`request ${r.id} writes block ${clash} owned by live request ${s.request.id}`);
    }
  }

  /** Pool slot of a request's context row, as a real shard's slotOf. */
  #slot(r: Request, row: number): number {
    const bs = this.opts.blockSize;
    return r.blocks[Math.floor(row / bs)]! * bs + (row % bs);
  }

  /** Sliding-window mode: writes the new context rows, then reads the last token's window back from the pool. */
  #windowedContext(s: SeqState): number[] {
    for (; s.written < s.context.length; s.written++) this.#pool[this.#slot(s.request, s.written)] = s.context[s.written]!;
    const end = s.context.length;
    const rows = Array.from({ length: Math.min(end, this.opts.slidingWindow) }, (_, i) => end - Math.min(end, this.opts.slidingWindow) + i);
    return rows.map((row) => {
      const t = this.#pool[this.#slot(s.request, row)]!;
      if (t < 0) throw new Error(`request ${s.request.id}: row ${row} was never written`);
      return t;
    });
  }

  #step(seqs: SeqState[]): Generation[] {
    return seqs.map((s) => {
      const t = this.opts.next(this.opts.slidingWindow > 0 ? this.#windowedContext(s) : s.context);
      s.context.push(t);
      s.generated++;
      const stop = s.request.stoppingParameters;
      let finishReason: FinishReason = 'FINISH_REASON_UNSPECIFIED';
      if (stop.stopTokenIds.includes(t) && s.generated >= stop.minNewTokens) finishReason = 'FINISH_REASON_EOS_TOKEN';
      else if (s.generated >= stop.maxNewTokens) finishReason = 'FINISH_REASON_LENGTH';
      s.finished = finishReason !== 'FINISH_REASON_UNSPECIFIED';
      const n = s.request.topNTokens;
      const v = this.opts.vocabSize;
      const top = Array.from({ length: n }, (_, k) => (t + k) % v);
      return {
        requestId: s.request.id,
        prefillTokens: null,
        tokens: { ids: [t], logprobs: [-0.25] },
        topTokens: n > 0 ? [{ ids: top, logprobs: top.map((_, k) => -0.25 - k) }] : [],
        finishReason,
        generatedTokens: s.generated,
        seed: s.request.parameters.seed,
      };
    });
  }

  #cached(id: number, seqs: SeqState[]): CachedBatch {
    const maxTokens = seqs.reduce((n, s) => n + s.request.inputIds.length + s.request.stoppingParameters.maxNewTokens, 0);
    return { id, requestIds: seqs.map((s) => s.request.id), size: seqs.length, maxTokens };
  }

  async prefill({ batch }: PrefillRequest): Promise<PrefillResponse> {
    this.calls.push({
      method: 'prefill',
      requestIds: batch.requests.map((r) => r.id),
      batchIds: [batch.id],
      cacheLens: batch.requests.map((r) => r.cacheLen),
      chunkLens: batch.requests.map((r) => r.chunkLen ?? 0),
    });
    this.#maybeFail('prefill');
    if (this.#restarted && !this.warmedUp) throw new Error('Prefill: KV cache not allocated: call Warmup first');
    if (this.opts.stepDelayMs > 0) await sleep(this.opts.stepDelayMs);
    for (const r of batch.requests) this.#checkBlocks(r);
    if (this.opts.slidingWindow > 0) for (const r of batch.requests) this.#writePromptChunk(r);
    // A prompt chunk short of the end samples nothing and is not kept (chunked prefill).
    const partial = new Set(batch.requests.filter((r) => (r.chunkLen ?? 0) > 0).map((r) => r.id));
    const seqs = this.#newSeqs(batch).filter((s) => !partial.has(s.request.id));
    const stepped = this.#step(seqs);
    const generations = batch.requests.map(
      (r): Generation =>
        stepped.find((g) => g.requestId === r.id) ?? {
          requestId: r.id,
          prefillTokens: null,
          tokens: { ids: [], logprobs: [] },
          topTokens: [],
          finishReason: 'FINISH_REASON_UNSPECIFIED',
          generatedTokens: 0,
          seed: r.parameters.seed,
        },
    );
    const computedTokens = batch.requests.reduce((n, r) => n + ((r.chunkLen ?? 0) > 0 ? r.chunkLen! : r.inputIds.length - r.cacheLen), 0);
    if (seqs.length > 0) this.batches.set(batch.id, seqs);
    return {
      generations,
      batch: seqs.length > 0 ? this.#cached(batch.id, seqs) : null,
      timings: { forwardNs: 0, sampleNs: 0, totalNs: 0, computedTokens, draftTokens: 0, acceptedDraftTokens: 0 },
    };
  }

  /** Sliding-window mode: a prompt chunk's tokens go to the pool (prefix-cache hits are already there). */
  #writePromptChunk(r: Request): void {
    const end = (r.chunkLen ?? 0) > 0 ? r.cacheLen + r.chunkLen! : r.inputIds.length;
    for (let row = r.cacheLen; row < end; row++) this.#pool[this.#slot(r, row)] = r.inputIds[row]!;
  }

  #newSeqs(batch: Batch): SeqState[] {
    return batch.requests.map((r) => ({ request: r, context: [...r.inputIds], generated: 0, finished: false, written: r.inputIds.length }));
  }

  async decode({ batches }: DecodeRequest): Promise<DecodeResponse> {
    this.calls.push({ method: 'decode', requestIds: batches.flatMap((b) => b.requestIds), batchIds: batches.map((b) => b.id) });
    this.#maybeFail('decode');
    if (this.opts.stepDelayMs > 0) await sleep(this.opts.stepDelayMs);
    const seqs: SeqState[] = [];
    for (const b of batches) {
      const got = this.batches.get(b.id);
      if (got === undefined) throw new Error(`decode: unknown batch ${b.id}`);
      seqs.push(...got);
      this.batches.delete(b.id);
    }
    const finished = seqs.filter((s) => s.finished).map((s) => s.request.id);
    if (finished.length > 0) throw new Error(`decode: requests ${finished.join(',')} finished but were not filtered`);
    const id = batches[0]!.id;
    this.batches.set(id, seqs);
    const generations = this.#step(seqs);
    return {
      generations,
      batch: this.#cached(id, seqs),
      timings: { forwardNs: 0, sampleNs: 0, totalNs: 0, computedTokens: seqs.length, draftTokens: 0, acceptedDraftTokens: 0 },
    };
  }

  /**
   * Continuous decode as a real shard runs it: a 'decode' call record per step, finished requests
   * leave the batch at once, controls apply at the next step boundary.
   */
  decodeStream({ batches }: DecodeRequest, onStep: (step: DecodeResponse) => void): DecodeStreamHandle {
    const pending: DecodeStreamControl = { dropRequestIds: [], stop: false };
    const loop = async () => {
      let ids = batches;
      for (;;) {
        await new Promise((r) => setImmediate(r)); // decode() sleeps stepDelayMs itself
        const step = await this.decode({ batches: ids });
        const id = step.batch!.id;
        const drop = new Set(pending.dropRequestIds.splice(0));
        const live = this.batches.get(id)!.filter((s) => !s.finished && !drop.has(s.request.id));
        if (drop.size > 0) this.calls.push({ method: 'filterBatch', requestIds: live.map((s) => s.request.id), batchIds: [id] });
        this.batches.set(id, live);
        const batch = live.length > 0 ? this.#cached(id, live) : null;
        if (batch === null) this.batches.delete(id);
        onStep({ ...step, batch });
        if (batch === null || pending.stop) return;
        ids = [batch];
      }
    };
    return {
      control: (c) => {
        pending.dropRequestIds.push(...c.dropRequestIds);
        pending.stop ||= c.stop;
      },
      done: loop(),
    };
  }

  async filterBatch({ batchId, requestIds }: FilterBatchRequest): Promise<FilterBatchResponse> {
    this.calls.push({ method: 'filterBatch', requestIds, batchIds: [batchId] });
    this.#maybeFail('filterBatch');
    const seqs = this.batches.get(batchId);
    if (seqs === undefined) throw new Error(`filterBatch: unknown batch ${batchId}`);
    const keep = seqs.filter((s) => requestIds.includes(s.request.id));
    this.batches.set(batchId, keep);
    return { batch: this.#cached(batchId, keep) };
  }

  async clearCache({ id }: ClearCacheRequest): Promise<void> {
    this.calls.push({ method: 'clearCache', requestIds: [], batchIds: id == null ? [] : [id] });
    if (id == null) this.batches.clear();
    else this.batches.delete(id);
  }
}

export interface RunningScriptedShard {
  shard: ScriptedShard;
  /** `127.0.0.1:PORT` */
  uri: string;
  close(): Promise<void>;
}

/** Serves a ScriptedShard on a free localhost port. */
export async function startScriptedShard(opts: ScriptedShardOptions = {}): Promise<RunningScriptedShard> {
  const shard = new ScriptedShard(opts);
  const server = new grpc.Server(CHANNEL_OPTIONS);
  server.addService(serviceDefinition, toServiceImplementation(shard));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    shard,
    uri: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
