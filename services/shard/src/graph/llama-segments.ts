// @module One rank's model as ONNX segments cut at the collective points: attention, MLP (per layer), and the head.
import type { LoadedModel } from '@tessera/model-files';
import { type ParallelPlan, ShardWeights } from '../weights/shard-weights.ts';
import {
  attentionBlock,
  type BuildProgress,
  type ComputeType,
  declareStepInputs,
  embedTokens,
  headBlock,
  mlpBlock,
  type NormConstants,
  normConstants,
  STEP_IO,
  stepPrelude,
} from './llama.ts';
import { blockOutput, hasOutputNorms } from './families/family-blocks.ts';
import type { QuantAccuracy } from './linear.ts';
import { type ExternalDataWriter, OnnxGraphBuilder, onnxTypeOf } from './onnx-builder.ts';

/**
 * The segment-only inputs/outputs: the all-reduced `hidden` in, this rank's contribution `partial` out, and (families
 * with norms after their blocks) the residual stream a segment hands to the next one on the same rank, never reduced
 * (`residual_out` of one segment is `residual` of the next: ONNX names an input and an output apart).
 */
export const SEGMENT_IO = { hidden: 'hidden', partial: 'partial', residual: 'residual', residualOut: 'residual_out' } as const;

export type SegmentKind = 'embed' | 'attention' | 'mlp' | 'head';

export interface Segment {
  kind: SegmentKind;
  layer: number;
  builder: OnnxGraphBuilder;
}

/**
 * Segments in run order: embed, attention 0, MLP 0, attention 1, …, MLP L-1, head. Each but the head
 * outputs `partial` [B·S, H] and the sum over ranks of the partials is the next hidden state: the
 * vocabulary-parallel embedding gives zero rows for ids outside the rank's span, and rank 0 also
 * adds the residual to its attention/MLP partial (the "bias on one rank" of a row-parallel layer).
 * The head outputs `logits` for this rank's vocabulary span and their per-row log-sum-exp `logits_lse`.
 *
 * Families that norm a block's output (OLMo 2, Gemma: `hasOutputNorms`) cannot norm a partial sum, so there the
 * all-reduce carries the raw block output and the next segment finishes the previous block: x = residual +
 * norm(hidden), handed on as `residual_out` to the segment after it; no rank adds the residual into its partial.
 *
 * With `dtype` float16 the weights, KV pools and each segment's compute are half precision, while
 * `hidden`/`partial` (what crosses between ranks) and the residual sum stay float32.
 */
export function buildLlamaSegments(
  writer: ExternalDataWriter,
  model: LoadedModel,
  plan: ParallelPlan,
  progress?: BuildProgress,
  dtype: ComputeType = 'float32',
  quantAccuracy: QuantAccuracy = 'int8',
): Segment[] {
  const w = new ShardWeights(model, plan);
  const { numLayers: L, hiddenSize: H } = model.config;
  const withResidual = plan.rank === 0;
  const segments: Segment[] = [];
  const total = 2 * L + 2;
  const half = dtype === 'float16';
  const graphOpts = { dtype, kvLayout: 'host', quantAccuracy } as const;
  const builder = (name: string) => new OnnxGraphBuilder(`tessera_r${plan.rank}_${name}`, writer, dtype);
  /** The float32 hidden state as the segment's compute type, and a result back to float32. */
  const toCompute = (b: OnnxGraphBuilder, x: string) => (half ? b.op('Cast', [x], { to: onnxTypeOf('float16') }) : x);
  const toFloat32 = (b: OnnxGraphBuilder, x: string) => (half ? b.op('Cast', [x], { to: onnxTypeOf('float32') }) : x);
  const deferred = hasOutputNorms(model.config);
  const finish = (kind: SegmentKind, layer: number, b: OnnxGraphBuilder, contribution: string, residual: string) => {
    if (withResidual && !deferred) b.op('Add', [residual, toFloat32(b, contribution)], {}, SEGMENT_IO.partial);
    else b.op('Identity', [toFloat32(b, contribution)], {}, SEGMENT_IO.partial);
    b.output(SEGMENT_IO.partial, 'float32', ['rows', H]);
    segments.push({ kind, layer, builder: b });
    progress?.(segments.length, total);
  };
  /**
   * The residual stream x this segment's block reads (float32), finishing the block before it when that block's output
   * is normed; handed on as `residual_out` unless this is the last segment (the head).
   */
  const streamIn = (b: OnnxGraphBuilder, p: NormConstants, before: { layer: number; block: 'attention' | 'mlp' } | null, handOn = true): string => {
    const hidden = b.input(SEGMENT_IO.hidden, 'float32', ['rows', H]);
    if (!deferred) return hidden;
    const x =
      before === null
        ? hidden
        : b.op('Add', [
            b.input(SEGMENT_IO.residual, 'float32', ['rows', H]),
            toFloat32(b, blockOutput(b, p, toCompute(b, hidden), before.layer, before.block)),
          ]);
    if (handOn) {
      b.op('Identity', [x], {}, SEGMENT_IO.residualOut);
      b.output(SEGMENT_IO.residualOut, 'float32', ['rows', H]);
    }
    return x;
  };
  const embed = builder('embed');
  embed.input(STEP_IO.inputIds, 'int64', ['batch', 'seq']);
  embed.op('Identity', [toFloat32(embed, embedTokens(embed, w, dtype).x)], {}, SEGMENT_IO.partial);
  embed.output(SEGMENT_IO.partial, 'float32', ['rows', H]);
  segments.push({ kind: 'embed', layer: 0, builder: embed });
  progress?.(segments.length, total);
  for (let l = 0; l < L; l++) {
    const attn = builder(`attn${l}`);
    declareStepInputs(attn, w, [l], false, graphOpts);
    const prelude = stepPrelude(attn, w, l, graphOpts);
    const x = streamIn(attn, prelude, l === 0 ? null : { layer: l - 1, block: 'mlp' });
    finish('attention', l, attn, attentionBlock(attn, prelude, l, toCompute(attn, x)), x);

    const mlp = builder(`mlp${l}`);
    const constants = normConstants(mlp, w, dtype, quantAccuracy);
    const hidden = streamIn(mlp, constants, { layer: l, block: 'attention' });
    finish('mlp', l, mlp, mlpBlock(mlp, constants, l, toCompute(mlp, hidden)), hidden);
  }
  const head = builder('head');
  const headConstants = normConstants(head, w, dtype, quantAccuracy);
  headBlock(head, headConstants, toCompute(head, streamIn(head, headConstants, { layer: L - 1, block: 'mlp' }, false)), null);
  // Each row's log-sum-exp over this rank's span: rank 0 combines them, so sampling skips a pass over V.
  head.op('ReduceLogSumExp', [STEP_IO.logits], { axes: [1], keepdims: 0 }, STEP_IO.logitsLse);
  head.output(STEP_IO.logitsLse, 'float32', ['rows']);
  segments.push({ kind: 'head', layer: L, builder: head });
  progress?.(total, total);
  return segments;
}
