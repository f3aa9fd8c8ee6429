// @module Runs one rank's step as ONNX segments with an all-reduce between them and a logits gather at the end.
import * as ort from 'onnxruntime-node';
import type { ProcessGroup } from '../collective/group.ts';
import { SEGMENT_IO } from '../graph/llama-segments.ts';
import { STEP_IO } from '../graph/llama.ts';
import { evenSpan } from '../weights/shard-weights.ts';

/** The outputs one step produces, by STEP_IO name: logits (full vocabulary on rank 0, empty elsewhere), new K/V. */
export type StepOutputs = Record<string, { data: unknown }>;

/** Compute / communication split of the steps run so far. */
export interface PipelineStats {
  steps: number;
  computeNs: number;
  collectiveNs: number;
}

export class SegmentPipeline {
  readonly stats: PipelineStats = { steps: 0, computeNs: 0, collectiveNs: 0 };

  constructor(
    readonly sessions: ort.InferenceSession[],
    readonly group: ProcessGroup,
    readonly hiddenSize: number,
    readonly vocabSize: number,
  ) {
    const last = sessions[sessions.length - 1];
    if (last === undefined || !last.outputNames.includes(STEP_IO.logits)) throw new Error('the last segment must output logits');
  }

  /** `feeds` holds every step input and pool; each segment takes the ones it declares. */
  async run(feeds: Record<string, ort.Tensor>): Promise<StepOutputs> {
    const out: StepOutputs = {};
    let hidden: ort.Tensor | null = null;
    let compute = 0n;
    let collective = 0n;
    for (const session of this.sessions) {
      const own: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        if (name === SEGMENT_IO.hidden) {
          if (hidden === null) throw new Error('segment needs a hidden state but none was computed');
          own[name] = hidden;
        } else {
          const t = feeds[name];
          if (t === undefined) throw new Error(`segment input ${name} was not fed`);
          own[name] = t;
        }
      }
      const t0 = process.hrtime.bigint();
      const res = await session.run(own);
      const t1 = process.hrtime.bigint();
      compute += t1 - t0;
      for (const name of session.outputNames) if (name !== SEGMENT_IO.partial && name !== STEP_IO.logits) out[name] = res[name]!;
      const partial = res[SEGMENT_IO.partial];
      if (partial !== undefined) {
        const sum = await this.group.allReduceSum(partial.data as Float32Array);
        hidden = new ort.Tensor('float32', sum, partial.dims);
      } else {
        const logits = res[STEP_IO.logits]!;
        out[STEP_IO.logits] = { data: await this.#gatherLogits(logits.data as Float32Array, logits.dims[0]!) };
      }
      collective += process.hrtime.bigint() - t1;
    }
    this.stats.steps++;
    this.stats.computeNs += Number(compute);
    this.stats.collectiveNs += Number(collective);
    return out;
  }

  /** Rank 0 assembles [rows, V] from every rank's [rows, vocab span]; the others get an empty array. */
  async #gatherLogits(part: Float32Array, rows: number): Promise<Float32Array> {
    const parts = await this.group.gatherToRoot(part);
    if (parts === null) return new Float32Array(0);
    const V = this.vocabSize;
    const world = parts.length;
    if (world === 1) return part;
    const full = new Float32Array(rows * V);
    parts.forEach((p, r) => {
      const span = evenSpan(V, world, r);
      if (p.length !== rows * span.count) throw new Error(`rank ${r} sent ${p.length} logits, expected ${rows} × ${span.count}`);
      for (let i = 0; i < rows; i++) full.set(p.subarray(i * span.count, (i + 1) * span.count), i * V + span.start);
    });
    return full;
  }

  async release(): Promise<void> {
    for (const s of this.sessions) await s.release();
  }
}
