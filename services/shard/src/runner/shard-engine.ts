// @module The shard's logic behind the RPCs: batch cache + model runner + sampler (runs on the runner thread).
import type {
  ClearCacheRequest,
  DecodeRequest,
  DecodeResponse,
  DecodeStreamControl,
  FilterBatchRequest,
  FilterBatchResponse,
  FinishReason,
  Generation,
  InfoResponse,
  PrefillRequest,
  PrefillResponse,
  Timings,
  Tokens,
  WarmupRequest,
  WarmupResponse,
} from '@tessera/protocol';
import { type Choice, logSumExp, topN } from '../sampler/sampler.ts';
import { GrammarError, type GrammarMatchers, type TokenMatcher } from '@tessera/grammar';
import { InvalidRequestError } from '../errors.ts';
import { everyLayerSlidingWindow } from '../graph/families/family-blocks.ts';
import { Batch, type RequestState } from './batch.ts';
import { BatchCache } from './batch-cache.ts';
import { defaultKvBudgetBytes, fractionOfFreeMemoryBytes, planNumBlocks } from './kv-cache.ts';
import { proposeDraft } from './prompt-lookup.ts';
import { decodeChoices, encodeChoices } from './rank0-choices.ts';
import { StepRows } from './step-rows.ts';
import type { StepResult, StepRunner } from './step-runner.ts';
import { acceptTokens } from './token-acceptance.ts';

/** How a continuous decode loop talks to its caller between steps (runner/thread.ts). */
export interface DecodeStreamIo {
  /** One step's reply (rank 0 each step; other ranks only the last). */
  emit(step: DecodeResponse): void;
  /** The controls received since the last call (rank 0 only: the others get rank 0's at each step). */
  takeControl(): DecodeStreamControl;
}

const NO_CONTROL: DecodeStreamControl = { dropRequestIds: [], stop: false };

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
  /** Speculative decoding: draft tokens (prompt lookup) verified per decode step; 0 or absent = off. */
  speculate?: number;
}

const now = () => process.hrtime.bigint();

/** Generic over the runner so that callers keep its full type (ModelRunner: release, stats). */
export class ShardEngine<R extends StepRunner = StepRunner> {
  readonly #cache = new BatchCache();
  readonly #speculate: number;
  /** A request dropped without finishing (filter, clear, drop) frees its grammar matcher when collected. */
  readonly #matchers = new FinalizationRegistry<TokenMatcher>((m) => m.dispose());

  constructor(
    readonly runner: R,
    readonly options: EngineOptions,
    /**
     * Rank 0: constrained decoding. Null on other ranks (they apply rank 0's choices) and without a
     * tokenizer; a string says why the engine could not load (constrained requests are refused with it).
     */
    readonly grammars: GrammarMatchers | string | null = null,
  ) {
    this.#speculate = Math.max(0, Math.floor(options.speculate ?? 0));
  }

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
      slidingWindowAllLayers: everyLayerSlidingWindow(c),
      speculate: this.#speculate,
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
    const [result, maskNs] = await Promise.all([this.runner.prefill(batch), this.#prepareMasks(batch)]);
    const { reply } = await this.#finishStep(batch, result, started, starts, null, maskNs);
    return reply;
  }

  async decode(req: DecodeRequest): Promise<DecodeResponse> {
    const started = now();
    const batch = this.#takeBatches(req);
    this.#draft(batch);
    const [result, maskNs] = await Promise.all([this.runner.decode(batch), this.#prepareMasks(batch)]);
    const { reply } = await this.#finishStep(batch, result, started, null, null, maskNs);
    return reply;
  }

  /**
   * Continuous decode (DecodeStream): steps the batch until no request is left or a stop arrives,
   * without a round trip per step. Drops and stops take effect at a step boundary that rank 0 picks
   * and shares with the other ranks, so every rank runs the same steps on the same requests.
   */
  async decodeStream(req: DecodeRequest, io: DecodeStreamIo): Promise<void> {
    const rank0 = this.runner.group === null || this.runner.group.rank === 0;
    let batch: Batch | null = this.#takeBatches(req);
    while (batch !== null) {
      // Let the thread's message handler deliver controls that arrived during the step.
      await new Promise((resolve) => setImmediate(resolve));
      const started = now();
      this.#draft(batch);
      const [result, maskNs] = await Promise.all([this.runner.decode(batch), this.#prepareMasks(batch)]);
      const { reply, control } = await this.#finishStep(batch, result, started, null, rank0 ? io.takeControl() : NO_CONTROL, maskNs);
      let next = reply.batch === null ? null : this.#cache.take(reply.batch.id);
      if (next !== null && control.dropRequestIds.length > 0) {
        const drop = new Set(control.dropRequestIds);
        next = next.filter(next.requests.filter((r) => !drop.has(r.id)).map((r) => r.id));
      }
      if (next !== null) this.#cache.set(next);
      const last = next === null || control.stop;
      if (rank0 || last) io.emit({ ...reply, batch: next?.toCachedBatch() ?? null });
      batch = last ? null : this.#cache.take(next!.id);
    }
  }

  /**
   * Speculative decoding: each request's draft for this step (the same on every rank: it depends on
   * the tokens alone). It never writes K/V past the reserved blocks nor yields more tokens than
   * max_new_tokens leaves (the step adds the model's own token after the accepted ones).
   */
  #draft(batch: Batch): void {
    if (this.#speculate === 0) return;
    for (const r of batch.requests) {
      // A draft would need the grammar to roll back what the model rejects: constrained requests go one token a step.
      if (r.grammar !== '') continue;
      const room = Math.min(this.#speculate, r.capacity(batch.blockSize) - r.tokens.length, r.stopping.maxNewTokens - r.generated - 1);
      r.draft = proposeDraft(r.tokens, room);
    }
  }

  /**
   * Rank 0, constrained decoding: a matcher for each request's grammar (compiled once per grammar,
   * cached), then the ids allowed at this step for every request that samples. Called beside the
   * forward pass, so the masks are computed while onnxruntime's threads run the model.
   */
  async #prepareMasks(batch: Batch): Promise<number> {
    const constrained = batch.requests.filter((r) => r.grammar !== '' && !r.partialPrefill);
    if (constrained.length === 0 || this.options.rank !== 0) return 0;
    const grammars = this.grammars;
    if (grammars === null) throw new InvalidRequestError('constrained decoding is unavailable: the shard has no tokenizer for this model');
    if (typeof grammars === 'string') throw new InvalidRequestError(`constrained decoding is unavailable: ${grammars}`);
    // The runner starts onnxruntime a few microtasks into its step; the masks (synchronous WASM work)
    // wait for the next turn of the loop so that they run while the model does, not before it starts.
    await new Promise((resolve) => setImmediate(resolve));
    const started = now();
    await Promise.all(
      constrained.map(async (r) => {
        if (r.matcher === null) {
          try {
            r.matcher = await grammars.matcher(r.grammar, [...r.stopping.stopTokenIds]);
          } catch (err) {
            if (err instanceof GrammarError) throw new InvalidRequestError(`request ${r.id}: ${err.message}`);
            throw err;
          }
          this.#matchers.register(r, r.matcher, r);
        }
        r.mask = await r.matcher.mask();
      }),
    );
    return Number(now() - started);
  }

  /** A finished request's matcher goes at once rather than at collection. */
  #releaseMatcher(r: RequestState): void {
    if (r.matcher === null) return;
    this.#matchers.unregister(r);
    r.matcher.dispose();
    r.matcher = null;
  }

  /** The cached batches a Decode names, taken out of the cache as one batch. */
  #takeBatches(req: DecodeRequest): Batch {
    if (req.batches.length === 0) throw new InvalidRequestError('decode: no batches');
    for (const b of req.batches) if (!this.#cache.has(b.id)) throw new InvalidRequestError(`batch ${b.id} not found in cache`);
    return Batch.concatenate(req.batches.map((b) => this.#cache.take(b.id)));
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

  /**
   * After the forward pass: every request gets its next token (sampled on rank 0, rank 0's choice
   * elsewhere), the survivors are cached for the next Decode, and rank 0 shares its choices.
   * `starts` (each request's computed tokens before the step) is set at prefill only. `control`
   * (continuous decode) travels with rank 0's choices; the other ranks return the one they received.
   */
  async #finishStep(batch: Batch, result: StepResult, started: bigint, starts: number[] | null, control: DecodeStreamControl | null, maskNs: number) {
    const received = await this.#choicesOfRank0();
    const decoded = received === null ? null : decodeChoices(received, batch.requests.length, this.#speculate > 0, control !== null);
    if (decoded !== null && control !== null) control = decoded.control;
    const sampleStart = now();
    const drafted = batch.requests.reduce((n, r) => n + r.draft.length, 0);
    const steps = batch.requests.map((r, i) => this.#finishRequest(r, new StepRows(result, i), starts?.[i] ?? null, decoded?.ids[i] ?? null));
    const generations = steps.map((s) => s.generation);
    const next = this.#cacheSurvivors(
      batch,
      steps.filter((s) => s.live).map((s) => s.request),
    );
    const end = now();
    const timings: Timings = {
      forwardNs: result.forwardNs,
      sampleNs: Number(end - sampleStart),
      totalNs: Number(end - started),
      computedTokens: result.computedTokens,
      draftTokens: drafted,
      acceptedDraftTokens: steps.reduce((n, s) => n + s.acceptedDraft, 0),
      grammarMaskNs: maskNs,
    };
    await this.#shareChoices(generations, control);
    return { reply: { generations, batch: next?.toCachedBatch() ?? null, timings }, control: control ?? NO_CONTROL };
  }

  /** One request's part of a step; `start` is set at prefill, `chosen` on ranks > 0. */
  #finishRequest(r: RequestState, rows: StepRows, start: number | null, chosen: number[] | null): RequestOutcome {
    // Prompt logprobs come from rank 0's logits (the other ranks have none).
    const scorePrompt = chosen === null && start !== null && r.prefillLogprobs;
    if (start !== null && r.partialPrefill) {
      // A prompt chunk short of the end: its K/V are in the blocks, nothing is sampled, and the
      // request leaves the shard (the router sends it again with cache_len = chunkEnd, and merges
      // the chunks' prompt logprobs).
      const prompt = scorePrompt ? promptLogprobs(r.tokens.slice(0, r.chunkEnd + 1), start, rows, r.topNTokens) : null;
      r.computed = r.chunkEnd;
      return { request: r, live: false, acceptedDraft: 0, generation: generationOf(r, prompt, [], 'FINISH_REASON_UNSPECIFIED') };
    }
    const prompt = scorePrompt ? promptLogprobs(r.tokens, start, rows, r.topNTokens) : null;
    // The token's logits are the last row the request returned: its last prompt token's at prefill.
    const last = start !== null && r.prefillLogprobs ? r.tokens.length - 1 - start : 0;
    const { choices, finishReason, acceptedDraft } = acceptTokens(r, rows, last, chosen, this.runner.blockSize);
    if (finishReason !== 'FINISH_REASON_UNSPECIFIED') this.#releaseMatcher(r);
    return { request: r, live: finishReason === 'FINISH_REASON_UNSPECIFIED', acceptedDraft, generation: generationOf(r, prompt, choices, finishReason) };
  }

  /** The requests that go on stay cached under the batch's id for the next Decode; null when none do. */
  #cacheSurvivors(batch: Batch, live: RequestState[]): Batch | null {
    const next = live.length > 0 ? new Batch(batch.id, live, batch.blockSize) : null;
    if (next !== null) this.#cache.set(next);
    return next;
  }

  /** Tensor parallel, ranks > 0: the ids rank 0 chose this step (only rank 0 has the logits); else null. */
  async #choicesOfRank0(): Promise<Int32Array | null> {
    const group = this.runner.group;
    return group !== null && group.rank !== 0 ? group.broadcastInt32(null) : null;
  }

  /**
   * Tensor parallel, rank 0: sends the chosen ids so every rank feeds the same tokens next step,
   * followed in a continuous decode by the step's control (rank0-choices.ts).
   */
  async #shareChoices(generations: Generation[], control: DecodeStreamControl | null): Promise<void> {
    const group = this.runner.group;
    if (group === null || group.rank !== 0) return;
    await group.broadcastInt32(
      encodeChoices(
        generations.map((g) => g.tokens.ids),
        this.#speculate > 0,
        control,
      ),
    );
  }
}

/** What a step did for one request: its Generation, and whether it goes on to the next Decode. */
interface RequestOutcome {
  request: RequestState;
  generation: Generation;
  live: boolean;
  /** Draft tokens the step accepted for this request (speculative decoding). */
  acceptedDraft: number;
}

function generationOf(r: RequestState, prompt: PromptLogprobs | null, choices: Choice[], finishReason: FinishReason): Generation {
  return {
    requestId: r.id,
    prefillTokens: prompt?.tokens ?? null,
    prefillTopTokens: prompt?.tops ?? [],
    tokens: { ids: choices.map((c) => c.id), logprobs: choices.map((c) => c.logprob) },
    topTokens: r.topNTokens > 0 ? choices.map((c) => c.top) : [],
    finishReason,
    generatedTokens: r.generated,
    seed: r.chooser.seed,
  };
}

interface PromptLogprobs {
  tokens: Tokens;
  /** Alternatives at each prompt position (OpenAI completions echo + logprobs), from the raw distribution. */
  tops: Tokens[];
}

/** Prompt token logprobs: token k is scored by the logits after token k-1 (NaN where not computed this step). */
function promptLogprobs(tokens: number[], start: number, rows: StepRows, topNTokens: number): PromptLogprobs {
  const logprobs: number[] = [];
  const tops: Tokens[] = [];
  tokens.forEach((t, k) => {
    if (k === 0 || k - 1 < start) {
      logprobs.push(NaN);
      tops.push({ ids: [], logprobs: [] });
      return;
    }
    const logits = rows.row(k - 1 - start);
    const lse = logSumExp(logits); // once per row, shared by the token's logprob and its alternatives
    logprobs.push(logits[t]! - lse);
    const top = topN(logits, topNTokens);
    tops.push({ ids: top.ids, logprobs: top.logprobs.map((l) => l - lse) });
  });
  return { tokens: { ids: [...tokens], logprobs }, tops };
}
