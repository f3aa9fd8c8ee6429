// @module Checkpoints that store q/k/v and gate/up fused (Phi-3: qkv_proj, gate_up_proj) are presented split, at load.
//
// Everything after the loader (tensor-parallel slicing per rank, quantized blocks, the graph) then sees the
// canonical q_proj/k_proj/v_proj and gate_proj/up_proj, so a rank takes its heads and FFN columns from each part.
import { sliceBlockAffineRows, type BlockAffine } from './block-affine.ts';
import { familyOf } from './families/families.ts';
import type { FloatTensor, ModelConfig } from './types.ts';

export const FUSED_QKV = 'self_attn.qkv_proj.weight';
export const FUSED_GATE_UP = 'mlp.gate_up_proj.weight';

interface Part {
  fused: string;
  start: number;
  rows: number;
}

/** Where a canonical tensor's rows lie in its fused tensor (HF names), or null when the family stores it apart. */
export function fusedPart(name: string, config: ModelConfig): Part | null {
  if (!familyOf(config.architecture).fusedProjections) return null;
  const match = /^model\.layers\.(\d+)\.(self_attn\.([qkv])_proj|mlp\.(gate|up)_proj)\.weight$/.exec(name);
  if (!match) return null;
  const layer = `model.layers.${match[1]}.`;
  const { numHeads, numKvHeads, headDim: D, intermediateSize: F } = config;
  // modeling_phi3.py Phi3Attention.forward: q = qkv[:, :q_pos], k = qkv[:, q_pos : q_pos + kv], v = the rest.
  if (match[3] === 'q') return { fused: layer + FUSED_QKV, start: 0, rows: numHeads * D };
  if (match[3] === 'k') return { fused: layer + FUSED_QKV, start: numHeads * D, rows: numKvHeads * D };
  if (match[3] === 'v') return { fused: layer + FUSED_QKV, start: (numHeads + numKvHeads) * D, rows: numKvHeads * D };
  // Phi3MLP.forward: gate, up_states = up_states.chunk(2, dim=-1) — the gate rows come first.
  return { fused: layer + FUSED_GATE_UP, start: match[4] === 'gate' ? 0 : F, rows: F };
}

/** Rows of each fused tensor a config implies (for shape checks). */
export function fusedRows(name: string, config: ModelConfig): number | undefined {
  const { numHeads, numKvHeads, headDim: D, intermediateSize: F } = config;
  if (name.endsWith(FUSED_QKV)) return (numHeads + 2 * numKvHeads) * D;
  if (name.endsWith(FUSED_GATE_UP)) return 2 * F;
  return undefined;
}

/** Reads split parts out of fused tensors; the last fused tensor read is kept (q, k, v are read in a row). */
export class FusedSplitter {
  #last: { name: string; tensor: FloatTensor } | null = null;
  constructor(
    readonly config: ModelConfig,
    /** The stored tensor's shape by its HF name, or undefined when absent. */
    readonly storedShape: (name: string) => number[] | undefined,
    readonly readStored: (name: string) => FloatTensor,
    readonly readStoredQuantized?: (name: string) => BlockAffine | null,
  ) {}

  /** Whether `name` is read from a fused tensor (one the family fuses, and the file holds fused). */
  owns(name: string): boolean {
    const part = fusedPart(name, this.config);
    return part !== null && this.storedShape(part.fused) !== undefined;
  }

  /** The part's shape when its fused tensor is present with the rows the config implies; else undefined (reported missing). */
  shape(name: string): number[] | undefined {
    const part = fusedPart(name, this.config)!;
    const stored = this.storedShape(part.fused);
    if (stored?.length !== 2 || stored[0] !== fusedRows(part.fused, this.config)) return stored && [...stored];
    return [part.rows, stored[1]!];
  }

  storedName(name: string): string {
    return fusedPart(name, this.config)!.fused;
  }

  read(name: string): FloatTensor {
    const part = fusedPart(name, this.config)!;
    if (this.#last?.name !== part.fused) this.#last = { name: part.fused, tensor: this.readStored(part.fused) };
    const { shape, data } = this.#last.tensor;
    const cols = shape[1]!;
    return { shape: [part.rows, cols], data: data.slice(part.start * cols, (part.start + part.rows) * cols) };
  }

  quantized(name: string): BlockAffine | null {
    const part = fusedPart(name, this.config)!;
    const q = this.readStoredQuantized?.(part.fused) ?? null;
    return q && sliceBlockAffineRows(q, part.start, part.rows);
  }
}

/**
 * The tensors as a fused family's file stores them, in order: each canonical name stands alone, except that
 * q/k/v become one qkv_proj and gate/up one gate_up_proj (parts listed in row order). For the GGUF writer.
 */
export function storedTensorGroups(names: string[], config: ModelConfig): { name: string; parts: string[] }[] {
  const groups: { name: string; parts: string[] }[] = [];
  const byFused = new Map<string, { name: string; parts: string[] }>();
  for (const name of names) {
    const part = fusedPart(name, config);
    if (!part) {
      groups.push({ name, parts: [name] });
      continue;
    }
    let group = byFused.get(part.fused);
    if (!group) {
      group = { name: part.fused, parts: [] };
      byFused.set(part.fused, group);
      groups.push(group);
    }
    group.parts.push(name);
  }
  for (const group of byFused.values()) group.parts.sort((a, b) => fusedPart(a, config)!.start - fusedPart(b, config)!.start);
  return groups;
}
