// @module What a model's weights are stored as: tensors per storage type and bytes held, for the start-up log and /info.
import type { LoadedModel } from './types.ts';

export interface WeightSummary {
  /** Tensors per storage type, e.g. { Q4_K: 13, Q6_K: 3, F32: 5 }. */
  tensorTypes: Record<string, number>;
  /** "Q4_K×13, Q6_K×3, F32×5", most frequent first. */
  label: string;
  /** Whether any matrix is executed quantized. */
  quantized: boolean;
}

const FLOAT_TYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

export function summarizeWeights(model: LoadedModel): WeightSummary {
  const tensorTypes: Record<string, number> = {};
  for (const name of model.tensorNames()) {
    const type = model.tensorType?.(name) ?? 'F32';
    tensorTypes[type] = (tensorTypes[type] ?? 0) + 1;
  }
  const quantized = Object.keys(tensorTypes).some((type) => !FLOAT_TYPES.has(type));
  const label = Object.entries(tensorTypes)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([type, n]) => `${type}×${n}`)
    .join(', ');
  return { tensorTypes, label, quantized };
}
