// @module Safetensors reader (single file or sharded with model.safetensors.index.json); tensors read lazily as float32.

import fs from 'node:fs';
import path from 'node:path';
import { bf16ToF32Array, f16ToF32Array } from './float16.ts';
import { readFileRange } from './file-range.ts';
import { ModelLoadError, type FloatTensor } from './types.ts';

/** I32 holds GPTQ/AWQ packed codes and g_idx; it is read with readInt32, never as floats. */
export const SAFETENSORS_DTYPES = ['F32', 'F16', 'BF16', 'I32'] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];
const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4 };

export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute path of the file holding it. */
  file: string;
  /** Absolute byte offset of its data in that file. */
  offset: number;
  byteLength: number;
}

/** All tensors of one checkpoint (one or many files), by name. */
export interface SafetensorsReader {
  /** Absolute paths of the weight files, in a stable order. */
  files: string[];
  names(): string[];
  has(name: string): boolean;
  info(name: string): SafetensorsTensorInfo;
  /** The tensor converted to float32; throws ModelLoadError if absent or not a float dtype. */
  read(name: string): FloatTensor;
  /** An I32 tensor's values (packed quantized codes, g_idx); throws ModelLoadError if absent or not I32. */
  readInt32(name: string): Int32Array;
}

/** Parses one .safetensors header: 8-byte LE length, then JSON {name: {dtype, shape, data_offsets}}. */
export function readSafetensorsHeader(file: string): SafetensorsTensorInfo[] {
  const label = path.basename(file);
  const fileSize = fs.statSync(file).size;
  if (fileSize < 8) throw new ModelLoadError(label, `file is too short (${fileSize} bytes) to be safetensors`);
  const headerLength = Number(new DataView(readFileRange(file, 0, 8).buffer).getBigUint64(0, true));
  if (headerLength > fileSize - 8 || headerLength > 100_000_000) {
    throw new ModelLoadError(label, `header length ${headerLength} does not fit the file (${fileSize} bytes)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(readFileRange(file, 8, headerLength))) as Record<string, unknown>;
  } catch (error) {
    throw new ModelLoadError(label, `header is not valid JSON (${(error as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const infos: SafetensorsTensorInfo[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(entry.dtype);
    if (!(SAFETENSORS_DTYPES as readonly string[]).includes(dtype)) {
      throw new ModelLoadError(label, `tensor "${name}" has unsupported dtype ${dtype} (supported: ${SAFETENSORS_DTYPES.join(', ')})`);
    }
    const shape = entry.shape;
    const offsets = entry.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ModelLoadError(label, `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new ModelLoadError(label, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    const byteLength = elements * BYTES_PER_ELEMENT[dtype as SafetensorsDtype];
    if (end - begin !== byteLength || dataStart + end > fileSize) {
      throw new ModelLoadError(label, `tensor "${name}" data_offsets [${begin}, ${end}] do not match shape [${shape}] ${dtype} or the file size`);
    }
    infos.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], file, offset: dataStart + begin, byteLength });
  }
  return infos;
}

/** Reads one tensor's bytes and converts them to float32. */
export function readSafetensorsTensor(info: SafetensorsTensorInfo): FloatTensor {
  const bytes = readFileRange(info.file, info.offset, info.byteLength);
  const shape = [...info.shape];
  switch (info.dtype) {
    case 'F32':
      return { shape, data: new Float32Array(bytes.buffer, 0, info.byteLength / 4) };
    case 'F16':
      return { shape, data: f16ToF32Array(new Uint16Array(bytes.buffer, 0, info.byteLength / 2)) };
    case 'BF16':
      return { shape, data: bf16ToF32Array(new Uint16Array(bytes.buffer, 0, info.byteLength / 2)) };
    case 'I32':
      // Packed codes would lose bits as float32: they have their own reader.
      throw new ModelLoadError(path.basename(info.file), `tensor "${info.name}" is I32 (packed integers), not a float tensor`);
  }
}

/** Reads an I32 tensor's values (little-endian, as safetensors stores them). */
export function readSafetensorsInt32(info: SafetensorsTensorInfo): Int32Array {
  if (info.dtype !== 'I32') throw new ModelLoadError(path.basename(info.file), `tensor "${info.name}" is ${info.dtype}, expected I32`);
  const bytes = readFileRange(info.file, info.offset, info.byteLength);
  return new Int32Array(bytes.buffer, bytes.byteOffset, info.byteLength / 4);
}

/** A reader over explicit files (later files may not redefine a name). */
export function safetensorsFromFiles(files: string[]): SafetensorsReader {
  const byName = new Map<string, SafetensorsTensorInfo>();
  for (const file of files) {
    for (const info of readSafetensorsHeader(file)) {
      if (byName.has(info.name)) {
        throw new ModelLoadError(path.basename(file), `tensor "${info.name}" is also defined in ${path.basename(byName.get(info.name)!.file)}`);
      }
      byName.set(info.name, info);
    }
  }
  const info = (name: string): SafetensorsTensorInfo => {
    const found = byName.get(name);
    if (!found) throw new ModelLoadError(path.basename(files[0] ?? 'model.safetensors'), `tensor "${name}" is missing`);
    return found;
  };
  return {
    files: [...files],
    names: () => [...byName.keys()],
    has: (name) => byName.has(name),
    info,
    read: (name) => readSafetensorsTensor(info(name)),
    readInt32: (name) => readSafetensorsInt32(info(name)),
  };
}

/**
 * Opens the weights of an HF directory: `model.safetensors.index.json` (its weight_map's files),
 * else `model.safetensors`, else every `*.safetensors` file in the directory.
 */
export function openSafetensors(dir: string): SafetensorsReader {
  const indexPath = path.join(dir, 'model.safetensors.index.json');
  if (fs.existsSync(indexPath)) {
    let index: { weight_map?: unknown };
    try {
      index = JSON.parse(fs.readFileSync(indexPath, 'utf8')) as { weight_map?: unknown };
    } catch (error) {
      throw new ModelLoadError('model.safetensors.index.json', `is not valid JSON (${(error as Error).message})`);
    }
    const weightMap = index.weight_map;
    if (!weightMap || typeof weightMap !== 'object') {
      throw new ModelLoadError('model.safetensors.index.json', 'field "weight_map" is missing');
    }
    const shardNames = [...new Set(Object.values(weightMap as Record<string, unknown>).map(String))].sort();
    for (const shard of shardNames) {
      if (!fs.existsSync(path.join(dir, shard))) {
        throw new ModelLoadError('model.safetensors.index.json', `weight_map names "${shard}", which does not exist`);
      }
    }
    const reader = safetensorsFromFiles(shardNames.map((s) => path.join(dir, s)));
    for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
      if (!reader.has(name) || path.basename(reader.info(name).file) !== String(shard)) {
        throw new ModelLoadError(String(shard), `tensor "${name}" (listed in model.safetensors.index.json) is missing`);
      }
    }
    return reader;
  }
  const single = path.join(dir, 'model.safetensors');
  if (fs.existsSync(single)) return safetensorsFromFiles([single]);
  const any = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.safetensors'))
        .sort()
    : [];
  if (any.length > 0) return safetensorsFromFiles(any.map((f) => path.join(dir, f)));
  throw new ModelLoadError('model.safetensors', `not found in ${dir} (nor model.safetensors.index.json or any *.safetensors)`);
}
