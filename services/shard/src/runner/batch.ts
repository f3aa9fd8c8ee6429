// @module Per-request generation state on the shard and a batch of them with TGI's four verbs.
import type { Batch as ProtoBatch, CachedBatch, Request } from '@tessera/protocol';
import { InvalidRequestError } from '../errors.ts';
import type { TokenMatcher } from '@tessera/grammar';
import { TokenChooser } from '../sampler/sampler.ts';
import { StoppingCriteria } from '../sampler/stopping.ts';

export class RequestState {
  readonly id: number;
  /** Prompt followed by the generated tokens. */
  readonly tokens: number[];
  readonly promptLength: number;
  /** Leading tokens whose K/V are in the pool. */
  computed: number;
  /** End (exclusive) of the prompt positions the current Prefill computes: < promptLength for a chunk. */
  readonly chunkEnd: number;
  readonly blocks: number[];
  generated = 0;
  /**
   * Speculative decoding: tokens proposed to follow the last one, verified by the next decode step
   * (computed after it, every row's logits returned); cleared when that step is finished.
   */
  draft: number[] = [];
  readonly topNTokens: number;
  readonly prefillLogprobs: boolean;
  readonly chooser: TokenChooser;
  readonly stopping: StoppingCriteria;
  /** Constrained decoding: the wire grammar ('' = none); every rank knows it, so all skip drafting alike. */
  readonly grammar: string;
  /** Rank 0, constrained: the request's place in its grammar (attached by the engine before its first token). */
  matcher: TokenMatcher | null = null;
  /** Rank 0, constrained: the ids allowed at this step, computed while the model runs. */
  mask: Int32Array | null = null;

  constructor(req: Request, vocabSize: number) {
    if (req.inputIds.length === 0) throw new InvalidRequestError(`request ${req.id}: input_ids is empty`);
    const bad = req.inputIds.find((t) => !(t >= 0 && t < vocabSize));
    if (bad !== undefined) throw new InvalidRequestError(`request ${req.id}: token id ${bad} is outside the vocabulary (0..${vocabSize - 1})`);
    this.id = req.id;
    this.tokens = [...req.inputIds];
    this.promptLength = req.inputIds.length;
    // At least the last prompt token is recomputed: its logits choose the first new token.
    this.computed = Math.min(req.cacheLen ?? 0, this.promptLength - 1);
    const chunk = req.chunkLen ?? 0;
    this.chunkEnd = chunk > 0 ? Math.min(this.promptLength, this.computed + chunk) : this.promptLength;
    this.blocks = [...req.blocks];
    this.topNTokens = req.topNTokens ?? 0;
    this.prefillLogprobs = req.prefillLogprobs ?? false;
    this.chooser = new TokenChooser(req.parameters, req.inputIds);
    this.grammar = req.parameters.grammar ?? '';
    if (this.grammar !== '' && req.stoppingParameters.stopTokenIds.length === 0) {
      throw new InvalidRequestError(`request ${req.id}: a constrained request needs stop_token_ids to end on once its grammar is complete`);
    }
    // The grammar decides where a constrained output may end, so min_new_tokens does not apply.
    this.stopping = new StoppingCriteria(this.grammar === '' ? req.stoppingParameters : { ...req.stoppingParameters, minNewTokens: 0 });
  }

  /** Tokens still to run through the model (the prompt suffix at prefill, the last token and its draft at decode). */
  get pending(): number[] {
    const known = this.tokens.slice(this.computed, this.computed < this.promptLength ? this.chunkEnd : undefined);
    return this.draft.length > 0 ? known.concat(this.draft) : known;
  }

  /** True when this Prefill computes a chunk that stops short of the prompt's end (nothing is sampled). */
  get partialPrefill(): boolean {
    return this.chunkEnd < this.promptLength;
  }

  /** Token positions the reserved blocks can hold. */
  capacity(blockSize: number): number {
    return this.blocks.length * blockSize;
  }
}

export class Batch {
  constructor(
    readonly id: number,
    readonly requests: RequestState[],
    readonly blockSize: number,
  ) {}

  /** A new batch from the router's Prefill message. */
  static fromProto(pb: ProtoBatch, vocabSize: number, blockSize: number): Batch {
    if (pb.requests.length === 0) throw new InvalidRequestError(`batch ${pb.id} has no requests`);
    const ids = new Set<number>();
    for (const r of pb.requests) {
      if (ids.has(r.id)) throw new InvalidRequestError(`batch ${pb.id}: request id ${r.id} appears twice`);
      ids.add(r.id);
      if (r.blocks.length * blockSize < r.inputIds.length) {
        throw new InvalidRequestError(`request ${r.id}: ${r.blocks.length} blocks of ${blockSize} cannot hold ${r.inputIds.length} prompt tokens`);
      }
    }
    return new Batch(
      pb.id,
      pb.requests.map((r) => new RequestState(r, vocabSize)),
      blockSize,
    );
  }

  /** The same batch keeping only `ids` (unknown ids are ignored); null when none remain. */
  filter(ids: Iterable<number>): Batch | null {
    const keep = new Set(ids);
    const requests = this.requests.filter((r) => keep.has(r.id));
    return requests.length > 0 ? new Batch(this.id, requests, this.blockSize) : null;
  }

  /** One batch holding the requests of all, under the first batch's id. */
  static concatenate(batches: Batch[]): Batch {
    const first = batches[0];
    if (first === undefined) throw new InvalidRequestError('no batch to concatenate');
    return new Batch(
      first.id,
      batches.flatMap((b) => b.requests),
      first.blockSize,
    );
  }

  /** Tokens the batch may hold at most: the reserved KV slots. */
  get maxTokens(): number {
    return this.requests.reduce((n, r) => n + r.capacity(this.blockSize), 0);
  }

  toCachedBatch(): CachedBatch {
    return { id: this.id, requestIds: this.requests.map((r) => r.id), size: this.requests.length, maxTokens: this.maxTokens };
  }
}
