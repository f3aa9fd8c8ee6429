// @module config.json (transformers) → ModelConfig for the Llama family, with field-naming errors.

import { familyByModelType, familyOf, SUPPORTED_ARCHITECTURES } from './families/families.ts';
import { ModelLoadError, type ModelConfig, type RopeScaling } from './types.ts';

export { SUPPORTED_ARCHITECTURES };
type Architecture = ModelConfig['architecture'];

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
  const family = typeof modelType === 'string' ? familyByModelType(modelType) : undefined;
  if (family) return family.architecture;
  if (modelType === undefined) fields.fail('architectures', 'is missing (and there is no model_type)');
  throw new ModelLoadError(fields.file, `model_type "${String(modelType)}" is not supported ${supported}`);
}

/** What some scalings read beside `rope_scaling` itself (top-level config fields, the rotated dims). */
export interface RopeContext {
  maxPositionEmbeddings: number;
  rotaryDim: number;
  originalMaxPositionEmbeddings?: number | undefined;
}

/** `rope_scaling` → RopeScaling | null; `rope_type` (new) or `type` (old) selects the kind. */
export function parseRopeScaling(file: string, raw: unknown, context?: RopeContext): RopeScaling | null {
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
    case 'yarn': {
      const factor = fields.number('factor');
      const mscale = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
      const m = fields.has('mscale') ? fields.number('mscale') : undefined;
      const mAll = fields.has('mscale_all_dim') ? fields.number('mscale_all_dim') : undefined;
      const attentionFactor = fields.has('attention_factor')
        ? fields.number('attention_factor')
        : m && mAll
          ? mscale(factor, m) / mscale(factor, mAll)
          : mscale(factor);
      const original = fields.has('original_max_position_embeddings')
        ? fields.positiveInt('original_max_position_embeddings')
        : (context?.maxPositionEmbeddings ?? fields.fail('original_max_position_embeddings', 'is missing'));
      return {
        type: 'yarn',
        factor,
        originalMaxPositionEmbeddings: original,
        betaFast: fields.number('beta_fast', 32),
        betaSlow: fields.number('beta_slow', 1),
        attentionFactor,
      };
    }
    case 'dynamic': {
      const original = fields.has('original_max_position_embeddings')
        ? fields.positiveInt('original_max_position_embeddings')
        : (context?.maxPositionEmbeddings ?? fields.fail('original_max_position_embeddings', 'is missing'));
      return { type: 'dynamic', factor: fields.number('factor'), originalMaxPositionEmbeddings: original };
    }
    case 'longrope':
    case 'su':
      if (!context) return fields.fail(kindField, 'longrope needs the model config around it');
      return parseLongRope(fields, context);
    default:
      return fields.fail(kindField, `value ${JSON.stringify(kind)} is not supported (supported: linear, llama3, yarn, dynamic, longrope)`);
  }
}

/**
 * LongRoPE as transformers' `_compute_longrope_parameters` (modeling_rope_utils.py) reads it: factor =
 * max_position_embeddings / original_max_position_embeddings, attention_factor defaulting to
 * sqrt(1 + ln(factor) / ln(original)) when factor > 1, and rotaryDim / 2 short and long factors.
 */
function parseLongRope(fields: JsonFields, context: RopeContext): RopeScaling {
  const original = fields.has('original_max_position_embeddings')
    ? fields.positiveInt('original_max_position_embeddings')
    : (context.originalMaxPositionEmbeddings ?? context.maxPositionEmbeddings);
  const factors = (field: string): number[] => {
    const raw = fields.json[field];
    if (!Array.isArray(raw) || raw.length !== context.rotaryDim / 2 || raw.some((v) => typeof v !== 'number' || !(v > 0))) {
      fields.fail(field, `must be ${context.rotaryDim / 2} positive numbers (half the rotated dims)`);
    }
    return raw as number[];
  };
  const factor = context.maxPositionEmbeddings / original;
  const attentionFactor = fields.has('attention_factor')
    ? fields.number('attention_factor')
    : factor <= 1
      ? 1
      : Math.sqrt(1 + Math.log(factor) / Math.log(original));
  return {
    type: 'longrope',
    shortFactor: factors('short_factor'),
    longFactor: factors('long_factor'),
    originalMaxPositionEmbeddings: original,
    attentionFactor,
  };
}

/**
 * Positions served: YaRN and dynamic NTK extend the original context by their factor (vLLM's max_model_len rule;
 * Qwen2.5's cards add rope_scaling and leave max_position_embeddings at 32768), the others keep the config's.
 */
export function servedPositions(maxPositionEmbeddings: number, scaling: RopeScaling | null): number {
  if (scaling?.type !== 'yarn' && scaling?.type !== 'dynamic') return maxPositionEmbeddings;
  return Math.max(maxPositionEmbeddings, Math.floor(scaling.originalMaxPositionEmbeddings * scaling.factor));
}

/** Parses a config.json object. `file` names it in errors. */
export function parseHfConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ModelLoadError(file, 'must be a JSON object');
  const fields = new JsonFields(file, json as Record<string, unknown>);
  const architecture = architectureOf(fields);
  const family = familyOf(architecture);

  const hiddenAct = fields.json['hidden_act'] ?? fields.json['hidden_activation'];
  const activations = family.activation === 'gelu_tanh' ? ['gelu_pytorch_tanh', 'gelu_tanh'] : ['silu', 'swish'];
  if (hiddenAct !== undefined && !activations.includes(hiddenAct as string)) {
    fields.fail('hidden_act', `value ${JSON.stringify(hiddenAct)} is not supported for ${architecture} (supported: ${activations[0]})`);
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
  // transformers: dim = int(head_dim * partial_rotary_factor) leading dims of each head are rotated.
  const partialRotary = fields.number('partial_rotary_factor', 1);
  const rotaryDim = Math.floor(headDim * partialRotary);
  if (!(partialRotary > 0 && partialRotary <= 1) || rotaryDim % 2 !== 0 || rotaryDim === 0) {
    fields.fail('partial_rotary_factor', `(${partialRotary}) must be in (0, 1] and leave an even, non-zero number of rotated dims of the ${headDim}-dim heads`);
  }

  const hasSlidingFlag = architecture === 'Qwen2ForCausalLM' || architecture === 'Qwen3ForCausalLM' || architecture === 'Qwen3MoeForCausalLM';
  const slidingWindowApplies =
    architecture === 'MistralForCausalLM' ||
    architecture === 'MixtralForCausalLM' ||
    architecture === 'Phi3ForCausalLM' ||
    (hasSlidingFlag && fields.boolean('use_sliding_window', false));
  const slidingWindow = slidingWindowApplies && fields.has('sliding_window') ? fields.positiveInt('sliding_window') : null;
  // Qwen2/Qwen3 (configuration_qwen2.py layer_types): the window applies from layer max_window_layers on.
  const maxWindowLayers = hasSlidingFlag && slidingWindow !== null ? fields.number('max_window_layers', 28) : 0;

  const numLayers = fields.positiveInt('num_hidden_layers');
  const maxPositionEmbeddings = fields.positiveInt('max_position_embeddings', family.defaultMaxPositions);
  const ropeScaling = parseRopeScaling(file, fields.json['rope_scaling'], {
    maxPositionEmbeddings,
    rotaryDim,
    originalMaxPositionEmbeddings: fields.has('original_max_position_embeddings') ? fields.positiveInt('original_max_position_embeddings') : undefined,
  });
  const base: ModelConfig = {
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
    ropeScaling,
    maxPositionEmbeddings: servedPositions(maxPositionEmbeddings, ropeScaling),
    tieWordEmbeddings: fields.boolean('tie_word_embeddings', false),
    attentionBias: family.attentionBias === 'always' || (architecture !== 'MistralForCausalLM' && fields.boolean('attention_bias', false)),
    slidingWindow,
    ...(rotaryDim !== headDim ? { rotaryDim } : {}),
    ...(maxWindowLayers > 0 ? { slidingLayers: Array.from({ length: numLayers }, (_, l) => l >= maxWindowLayers) } : {}),
  };
  return { ...base, ...family.hfFeatures(fields, base) };
}
