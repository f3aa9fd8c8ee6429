// @module An HF directory (Llama/Mistral/Qwen2, byte-level BPE tokenizer) → a GGUF file, float or quantized, as llama.cpp's converter lays it out.
//
// For `tessera quantize HF_DIR OUT.gguf TYPE` and the benchmarks (bench/quantized): the same model, in the
// file format llama-server reads too. SentencePiece tokenizers and llama3 RoPE scaling are refused (llama.cpp's
// convert_hf_to_gguf.py handles those; use it for such models).

import path from 'node:path';
import { expectedTensorShapes } from './canonical-tensors.ts';
import { GGML_TYPE_NAMES, GgmlType, ggmlBlockLayout } from './ggml-types.ts';
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
    throw new ModelLoadError(label, 'only byte-level BPE tokenizers (GPT-2 pre-tokenizer) can be written as GGUF here; use llama.cpp\'s convert_hf_to_gguf.py for this model');
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

function modelMetadata(model: LoadedModel, label: string): [string, TypedValue][] {
  const c = model.config;
  // Mixtral is `llama` with experts, as convert_hf_to_gguf.py writes it.
  const arch = c.architecture === 'Qwen2ForCausalLM' ? 'qwen2' : c.architecture === 'Qwen3MoeForCausalLM' ? 'qwen3moe' : 'llama';
  if (c.ropeScaling && c.ropeScaling.type !== 'linear') throw new ModelLoadError(label, `rope_scaling "${c.ropeScaling.type}" cannot be written as GGUF here`);
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
    [`${arch}.rope.dimension_count`, gv.u32(c.headDim)],
    [`${arch}.vocab_size`, gv.u32(c.vocabSize)],
    ...moeMetadata(model, arch),
    ...(c.ropeScaling?.type === 'linear' ? ([[`${arch}.rope.scaling.type`, gv.str('linear')], [`${arch}.rope.scaling.factor`, gv.f32(c.ropeScaling.factor)]] as [string, TypedValue][]) : []),
    ...tokenizerMetadata(model, label),
  ];
}

function moeMetadata(model: LoadedModel, arch: string): [string, TypedValue][] {
  const moe = model.config.moe;
  if (!moe) return [];
  const label = path.basename(model.path);
  if (moe.denseLayers.length > 0) throw new ModelLoadError(label, 'dense layers between sparse ones (mlp_only_layers, decoder_sparse_step) have no GGUF form in llama.cpp');
  return [
    [`${arch}.expert_count`, gv.u32(moe.numExperts)],
    [`${arch}.expert_used_count`, gv.u32(moe.topK)],
    ...(arch === 'qwen3moe' ? ([[`${arch}.expert_feed_forward_length`, gv.u32(moe.expertIntermediateSize)]] as [string, TypedValue][]) : []),
    // llama.cpp always renormalises for these two families; say so when the HF config does not (Qwen3-MoE norm_topk_prob false).
    ...(moe.normTopK ? [] : ([[`${arch}.expert_weights_norm`, gv.bool(false)]] as [string, TypedValue][])),
  ];
}

/** HF names in file order, with each layer's experts of one kind (gate, up, down) gathered as one stacked GGUF tensor. */
function ggufTensorGroups(model: LoadedModel): { name: string; hfNames: string[]; stacked: boolean }[] {
  const groups = new Map<string, { name: string; hfNames: string[]; stacked: boolean }>();
  for (const hfName of model.tensorNames()) {
    const target = ggufExpertTarget(hfName, model.config);
    const name = target?.name ?? ggufNameForHf(hfName);
    const group = groups.get(name);
    if (group) group.hfNames.push(hfName);
    else groups.set(name, { name, hfNames: [hfName], stacked: target !== undefined && 'expert' in target });
  }
  return [...groups.values()];
}

/** Writes `model` to `dst` as GGUF: 'F32', or quantized per preset (Q/K rows permuted to llama.cpp's order for llama). */
export function writeModelAsGguf(model: LoadedModel, dst: string, preset: GgufQuantPreset | 'F32', onTensor?: (name: string, index: number, total: number) => void): Record<string, string> {
  const label = path.basename(model.path);
  const types: Record<string, string> = {};
  const shapes = expectedTensorShapes(model.config);
  const tensors: StreamedTensor[] = ggufTensorGroups(model).map(({ name, hfNames, stacked }) => {
    const hfName = hfNames[0]!;
    const one = shapes.get(hfName);
    if (!one) throw new ModelLoadError(label, `tensor "${hfName}" has no GGUF form here`);
    // A stack of experts is [E, rows, cols]: ne = {cols, rows, E}.
    const shape = stacked ? [hfNames.length, ...one] : one;
    const ne = [...shape].reverse();
    const info: GgufTensorInfo = { name, ne, shape, type: GgmlType.F32, typeName: 'F32', offset: 0 };
    const type = preset === 'F32' ? GgmlType.F32 : quantTypeFor(info, preset);
    types[name] = GGML_TYPE_NAMES[type]!;
    const [blockElements, blockBytes] = ggmlBlockLayout(type)!;
    const elements = shape.reduce((a, b) => a * b, 1);
    const readOne = (n: string) => {
      const data = model.tensor(n).data;
      const heads = qkPermuteHeads(n, model.config);
      return heads ? permuteQk(data, one[0]!, heads) : data;
    };
    const read = () => {
      if (!stacked) return readOne(hfName);
      const all = new Float32Array(elements);
      hfNames.forEach((n, e) => all.set(readOne(n), (e * elements) / hfNames.length));
      return all;
    };
    return {
      name, ne, type, byteLength: (elements / blockElements) * blockBytes,
      data: () => {
        const data = read();
        return type === GgmlType.F32 ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : quantizeGgml(type, data, ne[0]!);
      },
    };
  });
  const header = encodeGgufHeader(3, tensors.length, modelMetadata(model, label));
  writeGgufStreaming(dst, header, 32, tensors, (name, index) => onTensor?.(name, index, tensors.length));
  return types;
}
