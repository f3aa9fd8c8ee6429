// @module An HF directory (the families of families/families.ts, byte-level BPE tokenizer) → a GGUF file, float or quantized, as llama.cpp's converter lays it out.
//
// For `tessera quantize HF_DIR OUT.gguf TYPE` and the benchmarks (bench/quantized): the same model, in the
// file format llama-server reads too. SentencePiece tokenizers and llama3 RoPE scaling are refused (llama.cpp's
// convert_hf_to_gguf.py handles those; use it for such models).

import path from 'node:path';
import { expectedTensorShapes } from './canonical-tensors.ts';
import { GGML_TYPE_NAMES, GgmlType, ggmlBlockLayout } from './ggml-types.ts';
import { familyOf, llamaCppQueryPreAttnScalar, SMOLLM3_NO_ROPE_STEP } from './families/families.ts';
import { storedTensorGroups } from './fused-projections.ts';
import { ggufExpertTarget } from './gguf-experts.ts';
import { ggufNameForHf, qkPermuteHeads } from './gguf-model.ts';
import { quantTypeFor, type GgufQuantPreset } from './gguf-quantize-file.ts';
import { GgufValueType, type GgufTensorInfo } from './gguf.ts';
import { encodeGgufHeader, gv, writeGgufStreaming, type StreamedTensor, type TypedValue } from './gguf-write.ts';
import { quantizeGgml } from './ggml-quantize.ts';
import { permuteQk } from './qk-permute.ts';
import { ModelLoadError, type LoadedModel } from './types.ts';

type Json = Record<string, unknown>;

/** GGUF tokenizer metadata of a byte-level BPE tokenizer.json (GPT-2 style: tokens, types, merges). */
function tokenizerMetadata(model: LoadedModel, label: string): [string, TypedValue][] {
  const tj = model.tokenizer.tokenizerJson as Json;
  const bpe = tj['model'] as Json | undefined;
  const pre = tj['pre_tokenizer'] as Json | null | undefined;
  if (bpe?.['type'] !== 'BPE' || pre?.['type'] !== 'ByteLevel' || pre['use_regex'] === false) {
    throw new ModelLoadError(
      label,
      "only byte-level BPE tokenizers (GPT-2 pre-tokenizer) can be written as GGUF here; use llama.cpp's convert_hf_to_gguf.py for this model",
    );
  }
  const vocab = bpe['vocab'] as Record<string, number>;
  const added = (tj['added_tokens'] as Array<{ id: number; content: string; special?: boolean }> | undefined) ?? [];
  const tokens: string[] = [];
  const types: number[] = [];
  for (const [token, id] of Object.entries(vocab)) [tokens[id], types[id]] = [token, 1];
  for (const t of added) [tokens[t.id], types[t.id]] = [t.content, t.special ? 3 : 4];
  for (let id = tokens.length; id < model.config.vocabSize; id++) [tokens[id], types[id]] = [`[PAD${id}]`, 5];
  for (let id = 0; id < tokens.length; id++) if (tokens[id] === undefined) [tokens[id], types[id]] = [`[UNUSED${id}]`, 5];
  const merges = (bpe['merges'] as Array<string | [string, string]>).map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const config = model.tokenizer.tokenizerConfig;
  const entries: [string, TypedValue][] = [
    ['tokenizer.ggml.model', gv.str('gpt2')],
    ['tokenizer.ggml.pre', gv.str('gpt-2')],
    ['tokenizer.ggml.tokens', gv.arr(GgufValueType.STRING, tokens)],
    ['tokenizer.ggml.token_type', gv.arr(GgufValueType.INT32, types)],
    ['tokenizer.ggml.merges', gv.arr(GgufValueType.STRING, merges)],
    ['tokenizer.ggml.add_bos_token', gv.bool(config['add_bos_token'] === true)],
  ];
  if (model.bosTokenId !== null) entries.push(['tokenizer.ggml.bos_token_id', gv.u32(model.bosTokenId)]);
  if (model.eosTokenIds[0] !== undefined) entries.push(['tokenizer.ggml.eos_token_id', gv.u32(model.eosTokenIds[0])]);
  if (model.tokenizer.chatTemplate) entries.push(['tokenizer.chat_template', gv.str(model.tokenizer.chatTemplate)]);
  return entries;
}

/** LongRoPE's factor sets as llama.cpp's phi3 converter writes them: F32 tensors rope_factors_long/short. */
function ropeFactorTensors(c: LoadedModel['config']): StreamedTensor[] {
  const s = c.ropeScaling;
  if (s?.type !== 'longrope') return [];
  const tensor = (name: string, values: number[]): StreamedTensor => {
    const data = Float32Array.from(values);
    return { name, ne: [values.length], type: GgmlType.F32, byteLength: data.byteLength, data: () => new Uint8Array(data.buffer) };
  };
  return [tensor('rope_factors_long.weight', s.longFactor), tensor('rope_factors_short.weight', s.shortFactor)];
}

function ropeScalingMetadata(c: LoadedModel['config'], arch: string): [string, TypedValue][] {
  const s = c.ropeScaling;
  if (s?.type === 'linear')
    return [
      [`${arch}.rope.scaling.type`, gv.str('linear')],
      [`${arch}.rope.scaling.factor`, gv.f32(s.factor)],
    ];
  if (s?.type === 'yarn') {
    const llamaCppMscale = s.factor <= 1 ? 1 : 0.1 * Math.log(s.factor) + 1;
    return [
      [`${arch}.rope.scaling.type`, gv.str('yarn')],
      [`${arch}.rope.scaling.factor`, gv.f32(s.factor)],
      [`${arch}.rope.scaling.original_context_length`, gv.u32(s.originalMaxPositionEmbeddings)],
      [`${arch}.rope.scaling.yarn_beta_fast`, gv.f32(s.betaFast)],
      [`${arch}.rope.scaling.yarn_beta_slow`, gv.f32(s.betaSlow)],
      [`${arch}.rope.scaling.yarn_attn_factor`, gv.f32(s.attentionFactor / llamaCppMscale)],
    ];
  }
  if (s?.type === 'longrope')
    return [
      [`${arch}.rope.scaling.original_context_length`, gv.u32(s.originalMaxPositionEmbeddings)],
      [`${arch}.rope.scaling.attn_factor`, gv.f32(s.attentionFactor)],
    ];
  return [];
}

/**
 * Gemma's keys as llama.cpp reads them (src/models/gemma2.cpp, gemma3.cpp). llama.cpp has no key for
 * query_pre_attn_scalar or for an irregular pattern of local layers, so those must match what it derives.
 */
function gemmaMetadata(c: LoadedModel['config'], arch: string, label: string): [string, TypedValue][] {
  if (!c.gemmaNorms) return [];
  const derived = llamaCppQueryPreAttnScalar(c);
  if (c.queryPreAttnScalar !== derived) {
    throw new ModelLoadError(label, `query_pre_attn_scalar ${c.queryPreAttnScalar} cannot be written as GGUF (llama.cpp derives ${derived} for this shape)`);
  }
  const entries: [string, TypedValue][] = [];
  if (c.attnLogitSoftcap !== undefined) entries.push([`${arch}.attn_logit_softcapping`, gv.f32(c.attnLogitSoftcap)]);
  if (c.finalLogitSoftcap !== undefined) entries.push([`${arch}.final_logit_softcapping`, gv.f32(c.finalLogitSoftcap)]);
  if (c.localRopeTheta !== undefined) entries.push([`${arch}.rope.freq_base_swa`, gv.f32(c.localRopeTheta)]);
  if (c.slidingWindow !== null && c.slidingLayers) {
    const period = c.slidingLayers.indexOf(false) + 1;
    if (period === 0 || c.slidingLayers.some((sliding, l) => sliding !== l % period < period - 1)) {
      throw new ModelLoadError(
        label,
        `the pattern of sliding layers ${JSON.stringify(c.slidingLayers.map(Number))} cannot be written as GGUF (llama.cpp takes a period)`,
      );
    }
    entries.push([`${arch}.attention.sliding_window`, gv.u32(c.slidingWindow)], [`${arch}.attention.sliding_window_pattern`, gv.u32(period)]);
  }
  return entries;
}

/**
 * The window of the non-Gemma families as `<arch>.attention.sliding_window` (+ one bool per layer when only some
 * layers slide, Qwen2's max_window_layers), the keys gguf-config.ts reads back. phi3 always carries the key, 0 for
 * none, as llama.cpp's converter writes it. llama.cpp itself ignores the window for llama, qwen2 and phi3.
 */
function slidingWindowMetadata(c: LoadedModel['config'], arch: string): [string, TypedValue][] {
  if (c.gemmaNorms) return [];
  if (c.slidingWindow === null) return arch === 'phi3' ? [[`${arch}.attention.sliding_window`, gv.u32(0)]] : [];
  const entries: [string, TypedValue][] = [[`${arch}.attention.sliding_window`, gv.u32(c.slidingWindow)]];
  if (c.slidingLayers) entries.push([`${arch}.attention.sliding_window_pattern`, gv.arr(GgufValueType.BOOL, c.slidingLayers)]);
  return entries;
}

function modelMetadata(model: LoadedModel, label: string): [string, TypedValue][] {
  const c = model.config;
  const arch = familyOf(c.architecture).ggufArch;
  if (c.ropeScaling && c.ropeScaling.type !== 'linear' && c.ropeScaling.type !== 'yarn' && !(c.ropeScaling.type === 'longrope' && arch === 'phi3')) {
    throw new ModelLoadError(label, `rope_scaling "${c.ropeScaling.type}" cannot be written as GGUF here`);
  }
  // llama.cpp's smollm3 has no metadata for NoPE layers: it assumes every 4th (src/models/smollm3.cpp).
  if (c.ropeLayers?.some((rope, l) => rope !== ((l + 1) % SMOLLM3_NO_ROPE_STEP !== 0))) {
    throw new ModelLoadError(
      label,
      `no_rope_layers ${JSON.stringify(c.ropeLayers.map(Number))} cannot be written as GGUF (llama.cpp's smollm3 assumes every ${SMOLLM3_NO_ROPE_STEP}th layer)`,
    );
  }
  return [
    ['general.architecture', gv.str(arch)],
    ['general.name', gv.str(path.basename(model.path))],
    [`${arch}.context_length`, gv.u32(c.maxPositionEmbeddings)],
    [`${arch}.embedding_length`, gv.u32(c.hiddenSize)],
    [`${arch}.block_count`, gv.u32(c.numLayers)],
    [`${arch}.feed_forward_length`, gv.u32(c.intermediateSize)],
    [`${arch}.attention.head_count`, gv.u32(c.numHeads)],
    [`${arch}.attention.head_count_kv`, gv.u32(c.numKvHeads)],
    [`${arch}.attention.key_length`, gv.u32(c.headDim)],
    [`${arch}.attention.value_length`, gv.u32(c.headDim)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gv.f32(c.rmsNormEps)],
    [`${arch}.rope.freq_base`, gv.f32(c.ropeTheta)],
    [`${arch}.rope.dimension_count`, gv.u32(c.rotaryDim ?? c.headDim)],
    [`${arch}.vocab_size`, gv.u32(c.vocabSize)],
    ...ropeScalingMetadata(c, arch),
    ...gemmaMetadata(c, arch, label),
    ...slidingWindowMetadata(c, arch),
    ...moeMetadata(model, arch),
    ...tokenizerMetadata(model, label),
  ];
}

function moeMetadata(model: LoadedModel, arch: string): [string, TypedValue][] {
  const moe = model.config.moe;
  if (!moe) return [];
  const label = path.basename(model.path);
  if (moe.denseLayers.length > 0)
    throw new ModelLoadError(label, 'dense layers between sparse ones (mlp_only_layers, decoder_sparse_step) have no GGUF form in llama.cpp');
  return [
    [`${arch}.expert_count`, gv.u32(moe.numExperts)],
    [`${arch}.expert_used_count`, gv.u32(moe.topK)],
    ...(arch === 'qwen3moe' ? ([[`${arch}.expert_feed_forward_length`, gv.u32(moe.expertIntermediateSize)]] as [string, TypedValue][]) : []),
    // llama.cpp always renormalises for these two families; say so when the HF config does not (Qwen3-MoE norm_topk_prob false).
    ...(moe.normTopK ? [] : ([[`${arch}.expert_weights_norm`, gv.bool(false)]] as [string, TypedValue][])),
  ];
}

/**
 * The GGUF tensors in file order, each with the HF tensors it is made of: a fused family's parts (Phi-3's
 * attn_qkv; ffn_up = gate then up, as llama.cpp's converter writes them), or one layer's experts of one kind
 * (gate, up, down) stacked; otherwise one tensor each.
 */
function ggufTensorGroups(model: LoadedModel): { name: string; parts: string[]; stacked: boolean }[] {
  const groups = new Map<string, { name: string; parts: string[]; stacked: boolean }>();
  for (const { name: hfName, parts } of storedTensorGroups(model.tensorNames(), model.config)) {
    const target = ggufExpertTarget(hfName, model.config);
    const name = target?.name ?? ggufNameForHf(hfName, model.config);
    const group = groups.get(name);
    if (group) group.parts.push(...parts);
    else groups.set(name, { name, parts: [...parts], stacked: target !== undefined && 'expert' in target });
  }
  return [...groups.values()];
}

/** Writes `model` to `dst` as GGUF: 'F32', or quantized per preset (Q/K rows permuted to llama.cpp's order for llama). */
export function writeModelAsGguf(
  model: LoadedModel,
  dst: string,
  preset: GgufQuantPreset | 'F32',
  onTensor?: (name: string, index: number, total: number) => void,
): Record<string, string> {
  const label = path.basename(model.path);
  const types: Record<string, string> = {};
  const shapes = expectedTensorShapes(model.config);
  const tensors: StreamedTensor[] = ggufTensorGroups(model).map(({ name, parts, stacked }) => {
    const partShapes = parts.map((part) => shapes.get(part));
    if (partShapes.some((s) => !s)) throw new ModelLoadError(label, `tensor "${parts[0]}" has no GGUF form here`);
    const first = partShapes[0]!;
    // A stack of experts is [E, rows, cols] (ne = {cols, rows, E}); a fused family's parts are concatenated by rows.
    const shape = stacked ? [parts.length, ...first] : parts.length === 1 ? first : [partShapes.reduce((rows, s) => rows + s![0]!, 0), first[1]!];
    const ne = [...shape].reverse();
    const info: GgufTensorInfo = { name, ne, shape, type: GgmlType.F32, typeName: 'F32', offset: 0 };
    const type = preset === 'F32' ? GgmlType.F32 : quantTypeFor(info, preset);
    types[name] = GGML_TYPE_NAMES[type]!;
    const [blockElements, blockBytes] = ggmlBlockLayout(type)!;
    const elements = shape.reduce((a, b) => a * b, 1);
    const normShift = familyOf(model.config.architecture).ggufNormShift ?? 0;
    const readPart = (part: string) => {
      const data = normShift !== 0 && part.endsWith('norm.weight') ? model.tensor(part).data.map((v) => v + normShift) : model.tensor(part).data;
      const heads = qkPermuteHeads(part, model.config);
      return heads ? permuteQk(data, shapes.get(part)![0]!, heads) : data;
    };
    const read = () => {
      if (parts.length === 1) return readPart(parts[0]!);
      const out = new Float32Array(elements);
      let offset = 0;
      for (const part of parts) {
        const data = readPart(part);
        out.set(data, offset);
        offset += data.length;
      }
      return out;
    };
    return {
      name,
      ne,
      type,
      byteLength: (elements / blockElements) * blockBytes,
      data: () => {
        const data = read();
        return type === GgmlType.F32 ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : quantizeGgml(type, data, ne[0]!);
      },
    };
  });
  tensors.push(...ropeFactorTensors(model.config));
  const header = encodeGgufHeader(3, tensors.length, modelMetadata(model, label));
  writeGgufStreaming(dst, header, 32, tensors, (name, index) => onTensor?.(name, index, tensors.length));
  return types;
}
