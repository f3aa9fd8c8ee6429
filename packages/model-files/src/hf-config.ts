// @module config.json (transformers) → ModelConfig for the Llama family, with field-naming errors.

import { MOE_ARCHITECTURES, parseHfMoe } from './moe-config.ts';
import { ModelLoadError, type ModelConfig, type RopeScaling } from './types.ts';

export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM', ...MOE_ARCHITECTURES] as const;
type Architecture = ModelConfig['architecture'];

const MODEL_TYPE_TO_ARCHITECTURE: Record<string, Architecture> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  mixtral: 'MixtralForCausalLM',
  qwen3_moe: 'Qwen3MoeForCausalLM',
};

/** transformers' defaults where config.json omits a field. */
const DEFAULT_MAX_POSITIONS: Record<Architecture, number> = {
  LlamaForCausalLM: 2048,
  MistralForCausalLM: 4096 * 32,
  Qwen2ForCausalLM: 32768,
  MixtralForCausalLM: 4096 * 32,
  Qwen3MoeForCausalLM: 32768,
};

/** Reads typed fields of one JSON object, throwing ModelLoadError naming the file and field. */
export class JsonFields {
  constructor(
    readonly file: string,
    readonly json: Record<string, unknown>,
    readonly prefix = '',
  ) {}

  fail(field: string, problem: string): never {
    throw new ModelLoadError(this.file, `field "${this.prefix}${field}" ${problem}`);
  }

  has(field: string): boolean {
    return this.json[field] !== undefined && this.json[field] !== null;
  }

  number(field: string, fallback?: number): number {
    const value = this.json[field];
    if (value === undefined || value === null) {
      if (fallback === undefined) this.fail(field, 'is missing');
      return fallback;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(field, `must be a number (got ${JSON.stringify(value)})`);
    return value;
  }

  positiveInt(field: string, fallback?: number): number {
    const value = this.number(field, fallback);
    if (!Number.isInteger(value) || value <= 0) this.fail(field, `must be a positive integer (got ${value})`);
    return value;
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.json[field];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') this.fail(field, `must be true or false (got ${JSON.stringify(value)})`);
    return value;
  }
}

function architectureOf(fields: JsonFields): Architecture {
  const list = fields.json['architectures'];
  const supported = `(supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`;
  if (Array.isArray(list) && list.length > 0) {
    const name = String(list[0]);
    if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(name)) {
      throw new ModelLoadError(fields.file, `architecture "${name}" is not supported ${supported}`);
    }
    return name as Architecture;
  }
  const modelType = fields.json['model_type'];
  if (typeof modelType === 'string' && MODEL_TYPE_TO_ARCHITECTURE[modelType]) return MODEL_TYPE_TO_ARCHITECTURE[modelType];
  if (modelType === undefined) fields.fail('architectures', 'is missing (and there is no model_type)');
  throw new ModelLoadError(fields.file, `model_type "${String(modelType)}" is not supported ${supported}`);
}

/** `rope_scaling` → RopeScaling | null; `rope_type` (new) or `type` (old) selects the kind. */
export function parseRopeScaling(file: string, raw: unknown): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object') throw new ModelLoadError(file, `field "rope_scaling" must be an object or null`);
  const fields = new JsonFields(file, raw as Record<string, unknown>, 'rope_scaling.');
  const kind = fields.json['rope_type'] ?? fields.json['type'];
  const kindField = fields.has('rope_type') ? 'rope_type' : 'type';
  switch (kind) {
    case 'default':
      return null;
    case 'linear':
      return { type: 'linear', factor: fields.number('factor') };
    case 'llama3':
      return {
        type: 'llama3',
        factor: fields.number('factor'),
        lowFreqFactor: fields.number('low_freq_factor'),
        highFreqFactor: fields.number('high_freq_factor'),
        originalMaxPositionEmbeddings: fields.positiveInt('original_max_position_embeddings'),
      };
    default:
      return fields.fail(kindField, `value ${JSON.stringify(kind)} is not supported (supported: linear, llama3)`);
  }
}

/** Parses a config.json object. `file` names it in errors. */
export function parseHfConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ModelLoadError(file, 'must be a JSON object');
  const fields = new JsonFields(file, json as Record<string, unknown>);
  const architecture = architectureOf(fields);

  const hiddenAct = fields.json['hidden_act'] ?? fields.json['hidden_activation'];
  if (hiddenAct !== undefined && hiddenAct !== 'silu' && hiddenAct !== 'swish') {
    fields.fail('hidden_act', `value ${JSON.stringify(hiddenAct)} is not supported (supported: silu)`);
  }
  if (fields.boolean('mlp_bias', false)) fields.fail('mlp_bias', 'is true, which is not supported');

  const hiddenSize = fields.positiveInt('hidden_size');
  const numHeads = fields.positiveInt('num_attention_heads');
  const numKvHeads = fields.positiveInt('num_key_value_heads', numHeads);
  if (!fields.has('head_dim') && hiddenSize % numHeads !== 0) {
    fields.fail('num_attention_heads', `(${numHeads}) does not divide hidden_size (${hiddenSize})`);
  }
  const headDim = fields.positiveInt('head_dim', hiddenSize / numHeads);
  if (headDim % 2 !== 0) fields.fail('head_dim', `(${headDim}) must be even for rotary embeddings`);
  if (numHeads % numKvHeads !== 0) {
    fields.fail('num_key_value_heads', `(${numKvHeads}) does not divide num_attention_heads (${numHeads})`);
  }
  const partialRotary = fields.json['partial_rotary_factor'];
  if (partialRotary !== undefined && partialRotary !== null && partialRotary !== 1) {
    fields.fail('partial_rotary_factor', `value ${JSON.stringify(partialRotary)} is not supported (supported: 1)`);
  }

  const isQwen2 = architecture === 'Qwen2ForCausalLM';
  const isMistral = architecture === 'MistralForCausalLM';
  const isQwen3Moe = architecture === 'Qwen3MoeForCausalLM';
  const slidingWindowApplies = isMistral || architecture === 'MixtralForCausalLM' || ((isQwen2 || isQwen3Moe) && fields.boolean('use_sliding_window', false));
  const numLayers = fields.positiveInt('num_hidden_layers');
  const moe = parseHfMoe(fields, architecture, numLayers);
  const slidingWindow = slidingWindowApplies && fields.has('sliding_window') ? fields.positiveInt('sliding_window') : null;

  return {
    architecture,
    hiddenSize,
    intermediateSize: fields.positiveInt('intermediate_size'),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: fields.positiveInt('vocab_size'),
    rmsNormEps: fields.number('rms_norm_eps', 1e-6),
    ropeTheta: fields.number('rope_theta', 10000),
    ropeScaling: parseRopeScaling(file, fields.json['rope_scaling']),
    maxPositionEmbeddings: fields.positiveInt('max_position_embeddings', DEFAULT_MAX_POSITIONS[architecture]),
    tieWordEmbeddings: fields.boolean('tie_word_embeddings', false),
    attentionBias: isQwen2 || ((architecture === 'LlamaForCausalLM' || isQwen3Moe) && fields.boolean('attention_bias', false)),
    slidingWindow,
    ...(moe ? { moe } : {}),
    // Qwen3MoeAttention: q_norm / k_norm over head_dim (modeling_qwen3_moe.py).
    ...(isQwen3Moe ? { qkNorm: true } : {}),
  };
}
