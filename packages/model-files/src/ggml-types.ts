// @module GGML tensor types: ids, names, and the block layout (elements and bytes per block) of the ones Tessera reads.

/** ggml tensor types by id (ggml_type). */
export const GGML_TYPE_NAMES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  6: 'Q5_0',
  7: 'Q5_1',
  8: 'Q8_0',
  9: 'Q8_1',
  10: 'Q2_K',
  11: 'Q3_K',
  12: 'Q4_K',
  13: 'Q5_K',
  14: 'Q6_K',
  15: 'Q8_K',
  16: 'IQ2_XXS',
  17: 'IQ2_XS',
  18: 'IQ3_XXS',
  19: 'IQ1_S',
  20: 'IQ4_NL',
  21: 'IQ3_S',
  22: 'IQ2_S',
  23: 'IQ4_XS',
  24: 'I8',
  25: 'I16',
  26: 'I32',
  27: 'I64',
  28: 'F64',
  29: 'IQ1_M',
  30: 'BF16',
  34: 'TQ1_0',
  35: 'TQ2_0',
};

export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  IQ4_NL: 20,
  IQ4_XS: 23,
  BF16: 30,
} as const;

/** [elements per block, bytes per block] of every readable type (ggml-common.h's block structs). */
const BLOCK_LAYOUT: Record<number, readonly [number, number]> = {
  [GgmlType.F32]: [1, 4],
  [GgmlType.F16]: [1, 2],
  [GgmlType.BF16]: [1, 2],
  [GgmlType.Q4_0]: [32, 18], // f16 d, 16 bytes of nibbles
  [GgmlType.Q4_1]: [32, 20], // f16 d, f16 m, 16 bytes of nibbles
  [GgmlType.Q5_0]: [32, 22], // f16 d, 4 bytes of high bits, 16 bytes of nibbles
  [GgmlType.Q5_1]: [32, 24], // f16 d, f16 m, high bits, nibbles
  [GgmlType.Q8_0]: [32, 34], // f16 d, 32 int8
  [GgmlType.Q2_K]: [256, 84], // 16 scale/min bytes, 64 bytes of 2-bit codes, f16 d, f16 dmin
  [GgmlType.Q3_K]: [256, 110], // 32 bytes of high bits, 64 bytes of 2-bit codes, 12 bytes of 6-bit scales, f16 d
  [GgmlType.Q4_K]: [256, 144], // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
  [GgmlType.Q5_K]: [256, 176], // f16 d, f16 dmin, 12 bytes of scales/mins, 32 bytes of high bits, 128 bytes of nibbles
  [GgmlType.Q6_K]: [256, 210], // 128 bytes of low nibbles, 64 bytes of high 2 bits, 16 int8 scales, f16 d
  [GgmlType.IQ4_NL]: [32, 18], // f16 d, 16 bytes of nibbles indexing a 16-value table
  [GgmlType.IQ4_XS]: [256, 136], // f16 d, u16 high scale bits, 4 bytes of low scale bits, 128 bytes of nibbles
};

/** Readable type names, in the order error messages list them. */
export const SUPPORTED_GGML_TYPES = [
  'F32',
  'F16',
  'BF16',
  ...Object.keys(BLOCK_LAYOUT)
    .map((id) => GGML_TYPE_NAMES[Number(id)]!)
    .filter((n) => !/^(F32|F16|BF16)$/.test(n)),
];

/** Block-quantized types (everything readable but the float ones). */
export function isBlockQuantizedType(type: number): boolean {
  return type !== GgmlType.F32 && type !== GgmlType.F16 && type !== GgmlType.BF16 && BLOCK_LAYOUT[type] !== undefined;
}

/** [elements, bytes] per block, or undefined for a type Tessera cannot read. */
export function ggmlBlockLayout(type: number): readonly [number, number] | undefined {
  return BLOCK_LAYOUT[type];
}

/** IQ4_NL / IQ4_XS's non-uniform 4-bit codebook (kvalues_iq4nl in ggml-common.h). */
export const IQ4_NL_VALUES: readonly number[] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
