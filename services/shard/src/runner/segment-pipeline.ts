// @module Runs one rank's step as ONNX segments with an all-reduce between them and a logits gather at the end.
import * as ort from 'onnxruntime-node';
import type { ProcessGroup } from '../collective/group.ts';
import { SEGMENT_IO } from '../graph/llama-segments.ts';
import { STEP_IO } from '../graph/step-io.ts';
import { evenSpan } from '../weights/shard-weights.ts';

/**
 * The outputs one step produces, by STEP_IO name: logits (full vocabulary on rank 0, empty elsewhere),
 * logits_lse (rank 0, when the head segment computes it), new K/V.
 */
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
    // The residual stream of families that norm after their blocks: from one segment to the next on this rank, never reduced.
    let residual: ort.Tensor | null = null;
    let compute = 0n;
    let collective = 0n;
    for (const session of this.sessions) {
      const own: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        if (name === SEGMENT_IO.hidden) {
          if (hidden === null) throw new Error('segment needs a hidden state but none was computed');
          own[name] = hidden;
        } else if (name === SEGMENT_IO.residual) {
          if (residual === null) throw new Error('segment needs the residual stream but no segment before it produced one');
          own[name] = residual;
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
      const passed = new Set<string>([SEGMENT_IO.partial, SEGMENT_IO.residualOut, STEP_IO.logits, STEP_IO.logitsLse]);
      for (const name of session.outputNames) if (!passed.has(name)) out[name] = res[name]!;
      residual = res[SEGMENT_IO.residualOut] ?? residual;
      const partial = res[SEGMENT_IO.partial];
      if (partial !== undefined) {
        const sum = await this.group.allReduceSum(partial.data as Float32Array);
        hidden = new ort.Tensor('float32', sum, partial.dims);
      } else {
        const logits = res[STEP_IO.logits]!;
        const lse = res[STEP_IO.logitsLse]?.data as Float32Array | undefined;
        const full = await this.#gatherLogits(logits.data as Float32Array, lse ?? null, logits.dims[0]!);
        out[STEP_IO.logits] = { data: full.logits };
        if (full.lse !== null) out[STEP_IO.logitsLse] = { data: full.lse };
      }
      collective += process.hrtime.bigint() - t1;
    }
    this.stats.steps++;
    this.stats.computeNs += Number(compute);
    this.stats.collectiveNs += Number(collective);
    return out;
  }

  /**
   * Rank 0 assembles [rows, V] from every rank's [rows, vocab span], and each row's log-sum-exp from
   * the ranks' span-local ones (so the sampler need not compute it over V in JavaScript); the others
   * get empty logits. A rank's part travels as one frame: its logits, then its `rows` local LSEs.
   */
  async #gatherLogits(logits: Float32Array, lse: Float32Array | null, rows: number): Promise<{ logits: Float32Array; lse: Float32Array | null }> {
    if (this.group.worldSize === 1) return { logits, lse };
    let part = logits;
    if (lse !== null && this.group.rank !== 0) {
      part = new Float32Array(logits.length + rows);
      part.set(logits);
      part.set(lse, logits.length);
    }
    const parts = await this.group.gatherToRoot(part);
    if (parts === null) return { logits: new Float32Array(0), lse: null };
    const V = this.vocabSize;
    const world = parts.length;
    const full = new Float32Array(rows * V);
    const lses: Float32Array[] = [];
    parts.forEach((p, r) => {
      const span = evenSpan(V, world, r);
      const n = rows * span.count;
      if (p.length !== n + (lse !== null && r > 0 ? rows : 0))
        throw new Error(`rank ${r} sent ${p.length} values, expected ${rows} × ${span.count} logits${lse !== null ? ` + ${rows} log-sum-exps` : ''}`);
      for (let i = 0; i < rows; i++) full.set(p.subarray(i * span.count, (i + 1) * span.count), i * V + span.start);
      if (lse !== null) lses.push(r === 0 ? lse : p.subarray(n));
    });
    return { logits: full, lse: lse === null ? null : combineLogSumExp(lses, rows) };
  }

  async release(): Promise<void> {
    for (const s of this.sessions) await s.release();
  }
}

/** log Σ_r exp(lse_r) per row, stably (in float64): the log-sum-exp over the whole vocabulary. */
export function combineLogSumExp(parts: Float32Array[], rows: number): Float32Array {
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let max = -Infinity;
    for (const p of parts) max = Math.max(max, p[i]!);
    if (max === -Infinity || !Number.isFinite(max)) {
      out[i] = max;
      continue;
    }
    let sum = 0;
    for (const p of parts) sum += Math.exp(p[i]! - max);
    out[i] = max + Math.log(sum);
  }
  return out;
}
