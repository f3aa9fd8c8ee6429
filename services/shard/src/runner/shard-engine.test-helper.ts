// @module Test doubles for the shard engine: a StepRunner with fake logits, a fake choice channel, request builders, a continuous-decode driver.
import type { ModelConfig } from '@tessera/model-files';
import type { CachedBatch, DecodeResponse, DecodeStreamControl, NextTokenChooserParameters, Request } from '@tessera/protocol';
import type { Batch, RequestState } from './batch.ts';
import type { KvPools } from './kv-cache.ts';
import { type EngineOptions, ShardEngine } from './shard-engine.ts';
import type { ChoiceChannel, StepResult, StepRunner } from './step-runner.ts';

export const V = 8;
export const BLOCK = 4;

/** The fake model: after token t it favours t + 1 (mod V), with a slope so logprobs are not trivial. */
export function rowAfter(t: number): Float32Array {
  return Float32Array.from({ length: V }, (_, j) => (j === (t + 1) % V ? 4 : j * 0.1));
}

/** A fake model's logits for the next token after `context` (every token up to and including the row's). */
export type FakeModel = (context: readonly number[]) => Float32Array;
export const nextTokenModel: FakeModel = (context) => rowAfter(context.at(-1)!);

/** A StepRunner whose logits come from a FakeModel of each row's context; it records what every step fed. */
export class FakeRunner implements StepRunner {
  readonly config = { vocabSize: V, architecture: 'LlamaForCausalLM' } as Partial<ModelConfig> as ModelConfig;
  readonly dtype = 'float32';
  readonly device = 'cpu';
  readonly blockSize = BLOCK;
  readonly geometry = { numLayers: 1, blockSize: BLOCK, numKvHeads: 1, headDim: 1 };
  /** Per step, each request's pending tokens. */
  readonly fed: number[][][] = [];

  constructor(
    readonly group: ChoiceChannel | null = null,
    readonly model: FakeModel = nextTokenModel,
  ) {}

  warmup(): Promise<KvPools> {
    throw new Error('not used');
  }

  prefill(batch: Batch): Promise<StepResult> {
    return this.#step(batch, (r) => r.prefillLogprobs);
  }

  /** As the model runner: every row's logits for a request with a draft to verify. */
  decode(batch: Batch): Promise<StepResult> {
    return this.#step(batch, (r) => r.draft.length > 0);
  }

  async #step(batch: Batch, allRows: (r: RequestState) => boolean): Promise<StepResult> {
    const rows: Float32Array[] = [];
    const logitOffsets: number[] = [];
    for (const r of batch.requests) {
      logitOffsets.push(rows.length);
      const pending = r.pending;
      // What the real pools require: a step never writes K/V past the blocks the router reserved.
      if (r.computed + pending.length > r.capacity(BLOCK)) throw new Error(`request ${r.id} writes past its ${r.blocks.length} blocks`);
      const past = r.tokens.slice(0, r.computed);
      for (let k = allRows(r) ? 0 : pending.length - 1; k < pending.length; k++) rows.push(this.model(past.concat(pending.slice(0, k + 1))));
    }
    this.fed.push(batch.requests.map((r) => r.pending));
    const logits = new Float32Array(rows.length * V);
    rows.forEach((row, k) => logits.set(row, k * V));
    return { logits, top: null, vocabSize: V, logitsLse: null, logitOffsets, forwardNs: 1, computedTokens: this.fed.at(-1)!.flat().length };
  }
}

/** A rank's end of the choice broadcast: records what rank 0 sends, hands scripted ids to the others. */
export class FakeChannel implements ChoiceChannel {
  readonly sent: number[][] = [];
  constructor(
    readonly rank: number,
    readonly script: number[][] = [],
  ) {}
  async broadcastInt32(values: Int32Array | null): Promise<Int32Array> {
    if (values !== null) {
      this.sent.push([...values]);
      return values;
    }
    const next = this.script.shift();
    if (next === undefined) throw new Error('rank 0 sent nothing');
    return Int32Array.from(next);
  }
}

export const greedy: NextTokenChooserParameters = {
  temperature: 0,
  topK: 0,
  topP: 0,
  typicalP: 0,
  doSample: false,
  seed: 0,
  repetitionPenalty: 0,
  frequencyPenalty: 0,
  presencePenalty: 0,
  minP: 0,
  logitBias: {},
};
export const request = (id: number, inputIds: number[], extra: Partial<Request> = {}): Request => ({
  id,
  inputIds,
  blocks: [id * 2, id * 2 + 1],
  cacheLen: 0,
  prefillLogprobs: false,
  topNTokens: 0,
  parameters: greedy,
  stoppingParameters: { maxNewTokens: 16, stopTokenIds: [], minNewTokens: 0 },
  ...extra,
});
export const batchOf = (id: number, requests: Request[]) => ({ batch: { id, size: requests.length, maxTokens: 64, requests } });
export const engineOn = (runner: FakeRunner, rank = 0, extra: Partial<EngineOptions> = {}) =>
  new ShardEngine(runner, { modelId: 'fake', rank, worldSize: runner.group ? 2 : 1, ...extra });

/** Drives a continuous decode: `onStep` may send controls (as the router does between steps); returns every emitted step. */
export async function decodeStream(
  engine: ShardEngine,
  batches: CachedBatch[],
  onStep: (k: number, send: (c: DecodeStreamControl) => void) => void = () => {},
) {
  const steps: DecodeResponse[] = [];
  let pending: DecodeStreamControl = { dropRequestIds: [], stop: false };
  const send = (c: DecodeStreamControl) => {
    pending = { dropRequestIds: [...pending.dropRequestIds, ...c.dropRequestIds], stop: pending.stop || c.stop };
  };
  await engine.decodeStream(
    { batches },
    {
      emit: (step) => {
        steps.push(step);
        onStep(steps.length, send);
      },
      takeControl: () => {
        const c = pending;
        pending = { dropRequestIds: [], stop: false };
        return c;
      },
    },
  );
  return steps;
}
