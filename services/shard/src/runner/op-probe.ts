// @module Which of onnxruntime's fused LLM operators an execution provider runs: one-node graphs, run once on the device.
import * as ort from 'onnxruntime-node';
import { f32ToF16Array } from '@tessera/model-files';
import type { ComputeType } from '../graph/step-io.ts';
import { OnnxGraphBuilder } from '../graph/onnx-builder.ts';
import { type Device, sessionOptionsFor } from './execution-provider.ts';

/** The com.microsoft operators a Llama graph could use instead of standard-op patterns. */
export const PROBED_OPS = ['GroupQueryAttention', 'RotaryEmbedding', 'SkipSimplifiedLayerNormalization', 'SimplifiedLayerNormalization'] as const;
export type ProbedOp = (typeof PROBED_OPS)[number];

export interface OpProbeResult {
  op: ProbedOp;
  dtype: ComputeType;
  /** Ran on the provider itself (CPU fallback disabled for the probe). */
  supported: boolean;
  /** Why not, as onnxruntime said it. */
  error?: string;
}

interface ProbeCase {
  domain: string;
  inputs: Array<{ name: string; elem: 'float' | 'int64' | 'int32'; dims: number[] }>;
  outputs: Array<{ name: string; dims: (number | string)[] }>;
  attrs: Record<string, number | { float: number }>;
}

// Small shapes: B = 1, S = 2, 2 heads (1 KV head) of size 8 (GroupQueryAttention wants a multiple of 8), hidden 16.
const CASES: Record<ProbedOp, ProbeCase> = {
  SimplifiedLayerNormalization: {
    domain: '',
    inputs: [
      { name: 'x', elem: 'float', dims: [1, 2, 16] },
      { name: 'gamma', elem: 'float', dims: [16] },
    ],
    outputs: [{ name: 'y', dims: [1, 2, 16] }],
    attrs: { epsilon: { float: 1e-5 }, axis: -1 },
  },
  SkipSimplifiedLayerNormalization: {
    domain: 'com.microsoft',
    inputs: [
      { name: 'x', elem: 'float', dims: [1, 2, 16] },
      { name: 'skip', elem: 'float', dims: [1, 2, 16] },
      { name: 'gamma', elem: 'float', dims: [16] },
    ],
    outputs: [{ name: 'y', dims: [1, 2, 16] }],
    attrs: { epsilon: { float: 1e-5 } },
  },
  RotaryEmbedding: {
    domain: 'com.microsoft',
    inputs: [
      { name: 'x', elem: 'float', dims: [1, 2, 16] },
      { name: 'position_ids', elem: 'int64', dims: [1, 2] },
      { name: 'cos_cache', elem: 'float', dims: [16, 4] },
      { name: 'sin_cache', elem: 'float', dims: [16, 4] },
    ],
    outputs: [{ name: 'y', dims: [1, 2, 16] }],
    attrs: { num_heads: 2, interleaved: 0 },
  },
  GroupQueryAttention: {
    domain: 'com.microsoft',
    inputs: [
      { name: 'query', elem: 'float', dims: [1, 2, 16] },
      { name: 'key', elem: 'float', dims: [1, 2, 8] },
      { name: 'value', elem: 'float', dims: [1, 2, 8] },
      { name: 'past_key', elem: 'float', dims: [1, 1, 4, 8] },
      { name: 'past_value', elem: 'float', dims: [1, 1, 4, 8] },
      { name: 'seqlens_k', elem: 'int32', dims: [1] },
      { name: 'total_sequence_length', elem: 'int32', dims: [] },
    ],
    outputs: [
      { name: 'y', dims: [1, 2, 16] },
      { name: 'present_key', dims: [1, 1, 'p', 8] },
      { name: 'present_value', dims: [1, 1, 'p', 8] },
    ],
    attrs: { num_heads: 2, kv_num_heads: 1 },
  },
};

function probeGraph(op: ProbedOp, dtype: ComputeType): Uint8Array {
  const c = CASES[op];
  const b = new OnnxGraphBuilder(`probe_${op}`);
  for (const i of c.inputs) b.input(i.name, i.elem === 'float' ? dtype : i.elem, i.dims);
  b.node(
    c.domain === '' ? op : `${c.domain}.${op}`,
    c.inputs.map((i) => i.name),
    c.attrs,
    c.outputs.map((o) => o.name),
  );
  for (const o of c.outputs) b.output(o.name, dtype, o.dims);
  return b.encode('tessera-probe');
}

function probeFeeds(op: ProbedOp, dtype: ComputeType): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const i of CASES[op].inputs) {
    const n = i.dims.reduce((a, b) => a * b, 1);
    if (i.elem === 'int64')
      feeds[i.name] = new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: n }, (_, k) => BigInt(k % 2)),
        i.dims,
      );
    else if (i.elem === 'int32')
      feeds[i.name] = new ort.Tensor(
        'int32',
        Int32Array.from({ length: n }, () => (i.name === 'seqlens_k' ? 3 : 4)),
        i.dims,
      );
    else {
      const values = Float32Array.from({ length: n }, (_, k) => Math.sin(k + 1) * 0.5);
      feeds[i.name] = dtype === 'float16' ? new ort.Tensor('float16', f32ToF16Array(values), i.dims) : new ort.Tensor('float32', values, i.dims);
    }
  }
  return feeds;
}

/** Creates and runs each probed operator alone on `device` (no CPU fallback), for each compute type. */
export async function probeOps(device: Device, deviceId = 0, dtypes: ComputeType[] = ['float32', 'float16']): Promise<OpProbeResult[]> {
  const results: OpProbeResult[] = [];
  for (const dtype of dtypes) {
    for (const op of PROBED_OPS) {
      try {
        const session = await ort.InferenceSession.create(probeGraph(op, dtype), {
          ...sessionOptionsFor(device, deviceId, 1),
          // A one-node graph has no shape arithmetic: anything on the CPU provider means "not supported here".
          extra: { session: { disable_cpu_ep_fallback: device === 'cpu' ? '0' : '1' } },
        });
        try {
          await session.run(probeFeeds(op, dtype));
        } finally {
          await session.release();
        }
        results.push({ op, dtype, supported: true });
      } catch (err) {
        results.push({ op, dtype, supported: false, error: ((err as Error).message ?? String(err)).split('\n')[0]!.slice(0, 300) });
      }
    }
  }
  return results;
}
