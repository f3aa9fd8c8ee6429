// @module GGUF mixture-of-experts tensors: 3-D `blk.N.ffn_{gate,up,down}_exps` ⇄ one 2-D matrix per expert, and their HF names.
//
// llama.cpp stacks the experts of a layer into one tensor, ne = {n_embd, n_ff, n_expert} for gate/up and
// {n_ff, n_embd, n_expert} for down (src/llama-arch.cpp, convert_hf_to_gguf.py); the expert is the slowest
// dimension, so expert e's matrix is a contiguous byte range and can be read (or kept quantized) by itself.

import path from 'node:path';
import { moeTensorNames } from './moe-config.ts';
import { ggufTensorByteLength, type GgufFile, type GgufTensorInfo } from './gguf.ts';
import type { ModelConfig } from './types.ts';

const STACKED = /^blk\.(\d+)\.ffn_(gate|up|down)_exps\.weight$/;
const VIEW = /^blk\.(\d+)\.ffn_(gate|up|down)_exps\.(\d+)\.weight$/;
const ROUTER = /^blk\.(\d+)\.ffn_gate_inp\.weight$/;

/** The name of expert e's view of a stacked tensor. */
export const expertViewName = (layer: number, part: 'gate' | 'up' | 'down', expert: number): string => `blk.${layer}.ffn_${part}_exps.${expert}.weight`;

/** Adds to `gguf.tensors` a 2-D view per expert of every stacked expert tensor (same type, offset into the stack). */
export function addExpertViews(gguf: GgufFile): void {
  const label = path.basename(gguf.path);
  for (const info of [...gguf.tensors.values()]) {
    const match = STACKED.exec(info.name);
    if (!match || info.ne.length !== 3) continue;
    const experts = info.ne[2]!;
    const bytesPerExpert = ggufTensorByteLength(info, label) / experts;
    for (let e = 0; e < experts; e++) {
      const ne = info.ne.slice(0, 2);
      const name = expertViewName(Number(match[1]), match[2] as 'gate' | 'up' | 'down', e);
      const view: GgufTensorInfo = { ...info, name, ne, shape: [...ne].reverse(), offset: info.offset + e * bytesPerExpert };
      gguf.tensors.set(name, view);
    }
  }
}

/** The HF name of a router or expert view, in the family's naming (moe-config.ts); undefined for other tensors. */
export function hfNameForGgufExpert(ggufName: string, config: ModelConfig): string | undefined {
  if (!config.moe) return undefined;
  const router = ROUTER.exec(ggufName);
  if (router) return moeTensorNames(config, Number(router[1])).router;
  const view = VIEW.exec(ggufName);
  if (!view) return undefined;
  const names = moeTensorNames(config, Number(view[1]));
  return names[view[2] as 'gate' | 'up' | 'down'](Number(view[3]));
}

/** For writers: the stacked GGUF tensor an HF expert tensor belongs to ({ name, expert }), or the router's GGUF name. */
export function ggufExpertTarget(
  hfName: string,
  config: ModelConfig,
): { name: string; part: 'gate' | 'up' | 'down'; layer: number; expert: number } | { name: string; router: true } | undefined {
  if (!config.moe) return undefined;
  const match = /^model\.layers\.(\d+)\./.exec(hfName);
  if (!match) return undefined;
  const layer = Number(match[1]);
  const names = moeTensorNames(config, layer);
  if (hfName === names.router) return { name: `blk.${layer}.ffn_gate_inp.weight`, router: true };
  for (let e = 0; e < config.moe.numExperts; e++) {
    for (const part of ['gate', 'up', 'down'] as const) {
      if (names[part](e) === hfName) return { name: `blk.${layer}.ffn_${part}_exps.weight`, part, layer, expert: e };
    }
  }
  return undefined;
}
