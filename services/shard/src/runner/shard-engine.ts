// @module The shard's logic behind the RPCs: batch cache + model runner + sampler (runs on the runner thread).
import type {
  ClearCacheRequest,
  DecodeRequest,
  DecodeResponse,
  FilterBatchRequest,
  FilterBatchResponse,
  Generation,
  InfoResponse,
  PrefillRequest,
  PrefillResponse,
  Timings,
  Tokens,
  WarmupRequest,
  WarmupResponse,
} from '@tessera/protocol';
import { logSumExp, topN } from '../sampler/sampler.ts';
import { Batch, InvalidRequestError, type RequestState } from './batch.ts';
import { BatchCache } from './batch-cache.ts';
import { defaultKvBudgetBytes, fractionOfFreeMemoryBytes, planNumBlocks } from './kv-cache.ts';
import type { ModelRunner, StepResult } from './model-runner.ts';

export interface EngineOptions {
  modelId: string;
  rank: number;
  worldSize: number;
  /** KV budget in bytes; default 25 % of free memory capped at 2 GiB. */
  kvCacheMemory?: number;
  /** KV budget as a fraction (0, 1] of the memory free at Warmup; used when kvCacheMemory is absent. */
  kvCacheFraction?: number;
  /** How the weights are stored (reported by Info). */
  weights?: { types: string; quantized: boolean; bytes: number };
}

const now = () => process.hrtime.bigint();

export class ShardEngine {
  readonly #cache = new BatchCache();

  constructor(
    readonly runner: ModelRunner,
    readonly options: EngineOptions,
  ) {}

  /** The instance id is the server's (services/shard/src/server.ts), not the runner thread's. */
  info(): Omit<InfoResponse, 'instanceId'> {
    const c = this.runner.config;
    return {
      modelId: this.options.modelId,
      architecture: c.architecture,
      dtype: this.runner.dtype,
      deviceType: this.runner.device,
      vocabSize: c.vocabSize,
      maxPositionEmbeddings: c.maxPositionEmbeddings,
      blockSize: this.runner.blockSize,
      rank: this.options.rank,
      worldSize: this.options.worldSize,
      numLayers: c.numLayers,
      numKvHeads: c.numKvHeads,
      headDim: c.headDim,
      weightTypes: this.options.weights?.types ?? '',
      quantized: this.options.weights?.quantized ?? false,
      weightBytes: this.options.weights?.bytes ?? 0,
    };
  }

  async warmup(req: WarmupRequest): Promise<WarmupResponse> {
    if (!(req.maxBatchPrefillTokens > 0)) throw new InvalidRequestError('warmup: max_batch_prefill_tokens must be > 0');
    this.#cache.clear();
    const { kvCacheMemory, kvCacheFraction } = this.options;
    const budget = kvCacheMemory ?? (kvCacheFraction !== undefined ? fractionOfFreeMemoryBytes(kvCacheFraction) : defaultKvBudgetBytes());
    // A re-warmup after a restart asks for the pool the router already accounts for.
    const numBlocks = (req.numBlocks ?? 0) > 0 ? req.numBlocks! : planNumBlocks(this.runner.geometry, budget, req.maxTotalTokens);
    const kv = await this.runner.warmup(req.maxBatchPrefillTokens, numBlocks);
    return { maxSupportedTotalTokens: kv.capacityTokens, numBlocks: kv.numBlocks, blockSize: kv.geometry.blockSize, kvCacheBytes: kv.bytes };
  }

  async prefill(req: PrefillRequest): Promise<PrefillResponse> {
    const started = now();
    const batch = Batch.fromProto(req.batch, this.runner.config.vocabSize, this.runner.blockSize);
    const starts = batch.requests.map((r) => r.computed);
    const result = await this.runner.prefill(batch);
    return this.#shareChoices(this.#finishStep(batch, result, started, starts, await this.#choicesOfRank0()));
  }

  async decode(req: DecodeRequest): Promise<DecodeResponse> {
    const started = now();
    if (req.batches.length === 0) throw new InvalidRequestError('decode: no batches');
    for (const b of req.batches) if (!this.#cache.has(b.id)) throw new InvalidRequestError(`batch ${b.id} not found in cache`);
    const batch = Batch.concatenate(req.batches.map((b) => this.#cache.take(b.id)));
    const result = await this.runner.decode(batch);
    return this.#shareChoices(this.#finishStep(batch, result, started, null, await this.#choicesOfRank0()));
  }

  filterBatch(req: FilterBatchRequest): FilterBatchResponse {
    const kept = this.#cache.take(req.batchId).filter(req.requestIds);
    if (kept === null) return { batch: null };
    this.#cache.set(kept);
    return { batch: kept.toCachedBatch() };
  }

  clearCache(req: ClearCacheRequest): void {
    if (req.id === undefined || req.id === null) this.#cache.clear();
    else this.#cache.delete(req.id);
  }

  /** Tensor parallel, ranks > 0: the ids rank 0 chose this step (only rank 0 has the logits); else null. */
  async #choicesOfRank0(): Promise<Int32Array | null> {
    const group = this.runner.group;
    return group !== null && group.rank !== 0 ? group.broadcastInt32(null) : null;
  }

  /** Tensor parallel, rank 0: sends the chosen ids (-1: none) so every rank feeds the same tokens next step. */
  async #shareChoices<T extends { generations: Generation[] }>(response: T): Promise<T> {
    const group = this.runner.group;
    if (group !== null && group.rank === 0) await group.broadcastInt32(Int32Array.from(response.generations, (g) => g.tokens.ids[0] ?? -1));
    return response;
  }

  /** Samples every request (or takes rank 0's `chosen` ids), applies stops, caches the survivors. `starts` is set at prefill. */
  #finishStep(batch: Batch, result: StepResult, started: bigint, starts: number[] | null, chosen: Int32Array | null = null) {
    const sampleStart = now();
    const V = result.vocabSize;
    const generations: Generation[] = [];
    const live: RequestState[] = [];
    batch.requests.forEach((r, i) => {
      if (starts !== null && r.partialPrefill) {
        // A prompt chunk short of the end: its K/V are in the blocks, nothing is sampled, and the
        // request leaves the shard (the router sends it again with cache_len = chunkEnd).
        // Prompt logprobs of this chunk's tokens (the router merges the chunks).
        const chunkLogprobs = chosen === null && r.prefillLogprobs ? promptLogprobs(r.tokens.slice(0, r.chunkEnd + 1), starts[i]!, result.logitOffsets[i]!, (k) => result.logits.subarray(k * V, (k + 1) * V), r.topNTokens) : null;
        r.computed = r.chunkEnd;
        generations.push({ requestId: r.id, prefillTokens: chunkLogprobs?.tokens ?? null, prefillTopTokens: chunkLogprobs?.tops ?? [], tokens: { ids: [], logprobs: [] }, topTokens: [], finishReason: 'FINISH_REASON_UNSPECIFIED', generatedTokens: 0, seed: r.chooser.seed });
        return;
      }
      const first = result.logitOffsets[i]!;
      const last = first + (starts !== null && r.prefillLogprobs ? r.tokens.length - 1 - starts[i]! : 0);
      const row = (k: number) => result.logits.subarray(k * V, (k + 1) * V);
      const prompt = chosen === null && starts !== null && r.prefillLogprobs ? promptLogprobs(r.tokens, starts[i]!, first, row, r.topNTokens) : null;
      const forbidden = r.stopping.suppressStops(r.generated) ? r.stopping.stopTokenIds : [];
      const choice = chosen !== null ? { id: chosen[i]!, logprob: 0, top: { ids: [], logprobs: [] } } : r.chooser.choose(row(last), r.topNTokens, forbidden, result.logitsLse?.[last]);
      r.computed = r.tokens.length;
      r.tokens.push(choice.id);
      r.chooser.accept(choice.id);
      r.generated++;
      let finishReason = r.stopping.check(choice.id, r.generated);
      // The next step must write this token's K/V: stop when the reserved blocks are full.
      if (finishReason === 'FINISH_REASON_UNSPECIFIED' && r.tokens.length > r.capacity(batch.blockSize)) finishReason = 'FINISH_REASON_LENGTH';
      if (finishReason === 'FINISH_REASON_UNSPECIFIED') live.push(r);
      generations.push({
        requestId: r.id,
        prefillTokens: prompt?.tokens ?? null,
        prefillTopTokens: prompt?.tops ?? [],
        tokens: { ids: [choice.id], logprobs: [choice.logprob] },
        topTokens: r.topNTokens > 0 ? [choice.top] : [],
        finishReason,
        generatedTokens: r.generated,
        seed: r.chooser.seed,
      });
    });
    const next = live.length > 0 ? new Batch(batch.id, live, batch.blockSize) : null;
    if (next !== null) this.#cache.set(next);
    const end = now();
    const timings: Timings = {
      forwardNs: result.forwardNs,
      sampleNs: Number(end - sampleStart),
      totalNs: Number(end - started),
      computedTokens: result.computedTokens,
    };
    return { generations, batch: next?.toCachedBatch() ?? null, timings };
  }
}

/** Prompt token logprobs: token k is scored by the logits after token k-1 (NaN where not computed). */
function promptLogprobs(tokens: number[], start: number, firstRow: number, row: (k: number) => Float32Array, topNTokens: number) {
  const logprobs: number[] = [];
  // Alternatives at each prompt position (OpenAI completions echo + logprobs), from the raw distribution.
  const tops: Tokens[] = [];
  tokens.forEach((t, k) => {
    if (k === 0 || k - 1 < start) {
      logprobs.push(NaN);
      tops.push({ ids: [], logprobs: [] });
      return;
    }
    const logits = row(firstRow + k - 1 - start);
    const lse = logSumExp(logits); // once per row, shared by the token's logprob and its alternatives
    logprobs.push(logits[t]! - lse);
    const top = topN(logits, topNTokens);
    tops.push({ ids: top.ids, logprobs: top.logprobs.map((l) => l - lse) });
  });
  return { tokens: { ids: [...tokens], logprobs }, tops };
}
