// @module GGUF v2/v3 parser: metadata, tensor infos, and tensors read as float32 or kept block-quantized.

import path from 'node:path';
import { bf16ToF32Array, f16ToF32Array } from './float16.ts';
import { FileCursor, readFileRange } from './file-range.ts';
import type { BlockAffine } from './block-affine.ts';
import { ggmlToBlockAffine, hasBlockAffineForm } from './ggml-block-affine.ts';
import { dequantizeGgml } from './ggml-dequantize.ts';
import { GGML_TYPE_NAMES, GgmlType, SUPPORTED_GGML_TYPES, ggmlBlockLayout, isBlockQuantizedType } from './ggml-types.ts';
import { ModelLoadError, type FloatTensor } from './types.ts';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** GGUF metadata value types (gguf_type). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

export type GgufValue = number | boolean | string | GgufValue[];

export { GGML_TYPE_NAMES, GgmlType, SUPPORTED_GGML_TYPES } from './ggml-types.ts';

export interface GgufTensorInfo {
  name: string;
  /** Dimensions as GGUF lists them, fastest-varying first (ne[0] is the row length). */
  ne: number[];
  /** Row-major shape: ne reversed, e.g. a [out, in] matrix for a Linear weight. */
  shape: number[];
  type: number;
  typeName: string;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
}

export interface GgufFile {
  path: string;
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: Map<string, GgufTensorInfo>;
  alignment: number;
  dataOffset: number;
  /** Byte range of the metadata key/value section (after the 24-byte header), for tools that copy it as is. */
  metadataEnd: number;
}

function readString(cursor: FileCursor): string {
  return cursor.utf8(cursor.u64());
}

function readValue(cursor: FileCursor, type: number, key: string, label: string): GgufValue {
  switch (type) {
    case GgufValueType.UINT8:
      return cursor.u8();
    case GgufValueType.INT8:
      return cursor.i8();
    case GgufValueType.UINT16:
      return cursor.u16();
    case GgufValueType.INT16:
      return cursor.i16();
    case GgufValueType.UINT32:
      return cursor.u32();
    case GgufValueType.INT32:
      return cursor.i32();
    case GgufValueType.FLOAT32:
      return cursor.f32();
    case GgufValueType.BOOL:
      return cursor.u8() !== 0;
    case GgufValueType.STRING:
      return readString(cursor);
    case GgufValueType.UINT64:
      return cursor.u64();
    case GgufValueType.INT64:
      return cursor.i64();
    case GgufValueType.FLOAT64:
      return cursor.f64();
    case GgufValueType.ARRAY: {
      const itemType = cursor.u32();
      const count = cursor.u64();
      const items: GgufValue[] = new Array(count);
      for (let i = 0; i < count; i++) items[i] = readValue(cursor, itemType, key, label);
      return items;
    }
    default:
      throw new ModelLoadError(label, `metadata "${key}" has unknown value type ${type}`);
  }
}

/** Parses the header (metadata and tensor infos) of a GGUF file; tensor data is read later by offset. */
export function openGguf(file: string): GgufFile {
  const label = path.basename(file);
  const cursor = new FileCursor(file);
  try {
    if (cursor.size < 24 || cursor.u32() !== GGUF_MAGIC) throw new ModelLoadError(label, 'is not a GGUF file (bad magic)');
    const version = cursor.u32();
    if (version === 1) throw new ModelLoadError(label, 'GGUF version 1 is not supported (supported: 2, 3)');
    if (version !== 2 && version !== 3) {
      const swapped = version > 0xffff ? ' (a big-endian GGUF?)' : '';
      throw new ModelLoadError(label, `GGUF version ${version} is not supported (supported: 2, 3)${swapped}`);
    }
    const tensorCount = cursor.u64();
    const metadataCount = cursor.u64();
    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < metadataCount; i++) {
      const key = readString(cursor);
      metadata.set(key, readValue(cursor, cursor.u32(), key, label));
    }
    const metadataEnd = cursor.position;
    const alignment = metadata.get('general.alignment') ?? GGUF_DEFAULT_ALIGNMENT;
    if (typeof alignment !== 'number' || alignment <= 0 || alignment % 8 !== 0) {
      throw new ModelLoadError(label, `metadata "general.alignment" must be a positive multiple of 8 (got ${String(alignment)})`);
    }
    const infos: { name: string; ne: number[]; type: number; relOffset: number }[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = readString(cursor);
      const nDims = cursor.u32();
      const ne: number[] = [];
      for (let d = 0; d < nDims; d++) ne.push(cursor.u64());
      infos.push({ name, ne, type: cursor.u32(), relOffset: cursor.u64() });
    }
    const dataOffset = Math.ceil(cursor.position / alignment) * alignment;
    const tensors = new Map<string, GgufTensorInfo>();
    for (const { name, ne, type, relOffset } of infos) {
      const typeName = GGML_TYPE_NAMES[type] ?? `id ${type}`;
      const info: GgufTensorInfo = { name, ne, shape: [...ne].reverse(), type, typeName, offset: dataOffset + relOffset };
      const layout = ggmlBlockLayout(type);
      if (layout && info.offset + ggufTensorByteLength(info, label) > cursor.size) {
        throw new ModelLoadError(label, `tensor "${name}" data runs past the end of the file`);
      }
      tensors.set(name, info);
    }
    return { path: file, version, metadata, tensors, alignment, dataOffset, metadataEnd };
  } catch (error) {
    if (error instanceof RangeError) throw new ModelLoadError(label, `is truncated or corrupt (${error.message})`);
    throw error;
  } finally {
    cursor.close();
  }
}

/** Throws unless the tensor's type is one we can dequantise. */
export function assertReadableTensor(info: GgufTensorInfo, label: string): void {
  if (!ggmlBlockLayout(info.type)) {
    throw new ModelLoadError(label, `tensor "${info.name}" has unsupported type ${info.typeName} (supported: ${SUPPORTED_GGML_TYPES.join(', ')})`);
  }
}

/** Bytes of a readable tensor's data; checks the row length fits the block size. */
export function ggufTensorByteLength(info: GgufTensorInfo, label: string): number {
  assertReadableTensor(info, label);
  const [blockElements, blockBytes] = ggmlBlockLayout(info.type)!;
  const rowLength = info.ne[0] ?? 1;
  if (rowLength % blockElements !== 0) {
    throw new ModelLoadError(label, `tensor "${info.name}" row length ${rowLength} is not a multiple of ${blockElements} (${info.typeName})`);
  }
  const elements = info.ne.reduce((a, b) => a * b, 1);
  return (elements / blockElements) * blockBytes;
}

function readTensorBytes(gguf: GgufFile, name: string): { info: GgufTensorInfo; bytes: Uint8Array; elements: number } {
  const label = path.basename(gguf.path);
  const info = gguf.tensors.get(name);
  if (!info) throw new ModelLoadError(label, `tensor "${name}" is missing`);
  const bytes = readFileRange(gguf.path, info.offset, ggufTensorByteLength(info, label));
  return { info, bytes, elements: info.ne.reduce((a, b) => a * b, 1) };
}

/** Reads one tensor as float32 in row-major shape (ne reversed); block types are dequantized (ggml-dequantize.ts). */
export function readGgufTensor(gguf: GgufFile, name: string): FloatTensor {
  const { info, bytes, elements } = readTensorBytes(gguf, name);
  const shape = [...info.shape];
  switch (info.type) {
    case GgmlType.F32:
      return { shape, data: new Float32Array(bytes.buffer, 0, elements) };
    case GgmlType.F16:
      return { shape, data: f16ToF32Array(new Uint16Array(bytes.buffer, 0, elements)) };
    case GgmlType.BF16:
      return { shape, data: bf16ToF32Array(new Uint16Array(bytes.buffer, 0, elements)) };
    default:
      return { shape, data: dequantizeGgml(info.type, bytes, elements) };
  }
}

/** Whether a tensor is stored in a block type that is kept quantized (a 2-D matrix of a type with a block-affine form). */
export function isQuantizedGgufTensor(info: GgufTensorInfo): boolean {
  return info.ne.length === 2 && isBlockQuantizedType(info.type) && hasBlockAffineForm(info.type);
}

/** A 2-D block-quantized tensor kept quantized, as [rows, cols] = [ne[1], ne[0]] (ggml-block-affine.ts). */
export function readGgufBlockAffine(gguf: GgufFile, name: string): BlockAffine {
  const { info, bytes } = readTensorBytes(gguf, name);
  if (!isQuantizedGgufTensor(info))
    throw new ModelLoadError(path.basename(gguf.path), `tensor "${name}" (${info.typeName}, ${info.ne.length}-D) is not a quantized matrix`);
  return ggmlToBlockAffine(info.type, bytes, info.ne[1]!, info.ne[0]!);
}
