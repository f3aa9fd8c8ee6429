// @module config.json `quantization_config` (or AutoGPTQ's quantize_config.json) → the GPTQ/AWQ parameters we execute, or a refusal naming the method.

import { JsonFields } from './hf-config.ts';
import { ModelLoadError } from './types.ts';

export const SUPPORTED_QUANT_METHODS = ['gptq', 'awq'] as const;

/** How a GPTQ or AWQ checkpoint packs its Linear weights (what the decoders need). */
export interface HfQuantization {
  method: 'gptq' | 'awq';
  bits: 4 | 8;
  /** Input columns per scale/zero group; -1 (GPTQ) means one group per output row. */
  groupSize: number;
  /** GPTQ act-order: g_idx may be a permutation of groups (decoded only when it turns out to be trivial). */
  descAct: boolean;
  /**
   * Added to each stored zero point. AutoGPTQ's classic ("gptq", v1) format stores z − 1 and every kernel adds
   * the 1 back; GPTQModel's "gptq_v2" and AWQ store z itself.
   */
  zeroAdjust: 0 | 1;
  /** "GPTQ-4bit", "AWQ-4bit": the storage type reported per tensor. */
  label: string;
}

const REFUSAL_HINT = `(supported: ${SUPPORTED_QUANT_METHODS.join(', ')}; a float checkpoint can be quantized at load with --quantize int8|int4)`;

function groupSizeOf(fields: JsonFields, names: string[]): number {
  const name = names.find((n) => fields.has(n)) ?? names[0]!;
  const value = fields.number(name, 128);
  if (value === -1) return -1;
  if (!(Number.isInteger(value) && value >= 16 && (value & (value - 1)) === 0)) {
    fields.fail(name, `is ${value}; MatMulNBits needs a power of two ≥ 16 (or -1 for one group per row)`);
  }
  return value;
}

/** GPTQ fields: bits, group_size, desc_act, sym, checkpoint_format. */
function parseGptq(fields: JsonFields): HfQuantization {
  const bits = fields.number('bits', 4);
  if (bits !== 4 && bits !== 8) fields.fail('bits', `is ${bits}; GPTQ is supported with 4 or 8 bits`);
  const format = String(fields.json['checkpoint_format'] ?? 'gptq');
  if (fields.boolean('is_marlin_format', false) || (format !== 'gptq' && format !== 'gptq_v2')) {
    fields.fail(
      'checkpoint_format',
      `is ${JSON.stringify(fields.json['is_marlin_format'] ? 'marlin' : format)}, which is not supported (supported: gptq, gptq_v2)`,
    );
  }
  return {
    method: 'gptq',
    bits,
    groupSize: groupSizeOf(fields, ['group_size']),
    descAct: fields.boolean('desc_act', false),
    zeroAdjust: format === 'gptq' ? 1 : 0,
    label: `GPTQ-${bits}bit`,
  };
}

/** AWQ fields (AutoAWQ and transformers' spellings): bits|w_bit, group_size|q_group_size, zero_point, version. */
function parseAwq(fields: JsonFields): HfQuantization {
  const bitsField = fields.has('w_bit') && !fields.has('bits') ? 'w_bit' : 'bits';
  const bits = fields.number(bitsField, 4);
  if (bits !== 4) fields.fail(bitsField, `is ${bits}; AWQ is supported with 4 bits`);
  const version = String(fields.json['version'] ?? 'gemm').toLowerCase();
  // The "exllama"/"ipex" versions name a kernel at load time over GEMM-packed tensors.
  if (!['gemm', 'exllama', 'ipex'].includes(version)) {
    fields.fail('version', `is ${JSON.stringify(fields.json['version'])}; only the GEMM packing is supported (GEMV packs along another axis)`);
  }
  if (!fields.boolean('zero_point', true)) fields.fail('zero_point', 'is false; only AWQ with zero points is supported');
  return { method: 'awq', bits: 4, groupSize: groupSizeOf(fields, ['group_size', 'q_group_size']), descAct: false, zeroAdjust: 0, label: 'AWQ-4bit' };
}

/**
 * Reads `quantization_config` from config.json, or, for older AutoGPTQ exports, quantize_config.json
 * (pass it as `legacyGptq`). null when the checkpoint is not quantized; ModelLoadError for every method
 * other than GPTQ and AWQ, naming it.
 */
export function parseHfQuantization(configJson: Record<string, unknown>, legacyGptq: Record<string, unknown> | null = null): HfQuantization | null {
  const raw = configJson['quantization_config'];
  if (raw === undefined || raw === null) {
    return legacyGptq ? parseGptq(new JsonFields('quantize_config.json', legacyGptq)) : null;
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ModelLoadError('config.json', 'field "quantization_config" must be an object');
  const fields = new JsonFields('config.json', raw as Record<string, unknown>, 'quantization_config.');
  const json = fields.json;
  // bitsandbytes configs written before quant_method existed carry only load_in_4bit / load_in_8bit.
  const method = json['quant_method'] ?? (json['load_in_4bit'] || json['load_in_8bit'] ? 'bitsandbytes' : undefined);
  if (method === 'gptq') return parseGptq(fields);
  if (method === 'awq') return parseAwq(fields);
  if (method === undefined) fields.fail('quant_method', `is missing ${REFUSAL_HINT}`);
  return fields.fail('quant_method', `is ${JSON.stringify(method)}, which is not supported ${REFUSAL_HINT}`);
}
