// @module GGUF writing: metadata encoding and a streaming writer that holds one tensor in memory at a time.

import fs from 'node:fs';
import { GgufValueType } from './gguf.ts';

type ValueTypeId = (typeof GgufValueType)[keyof typeof GgufValueType];
export type TypedValue =
  | { type: Exclude<ValueTypeId, 9>; value: number | boolean | string | bigint }
  | { type: 9; itemType: ValueTypeId; value: (number | boolean | string)[] };

export const gv = {
  u8: (value: number): TypedValue => ({ type: GgufValueType.UINT8, value }),
  i8: (value: number): TypedValue => ({ type: GgufValueType.INT8, value }),
  u16: (value: number): TypedValue => ({ type: GgufValueType.UINT16, value }),
  i16: (value: number): TypedValue => ({ type: GgufValueType.INT16, value }),
  u32: (value: number): TypedValue => ({ type: GgufValueType.UINT32, value }),
  i32: (value: number): TypedValue => ({ type: GgufValueType.INT32, value }),
  f32: (value: number): TypedValue => ({ type: GgufValueType.FLOAT32, value }),
  bool: (value: boolean): TypedValue => ({ type: GgufValueType.BOOL, value }),
  str: (value: string): TypedValue => ({ type: GgufValueType.STRING, value }),
  u64: (value: number): TypedValue => ({ type: GgufValueType.UINT64, value }),
  i64: (value: number): TypedValue => ({ type: GgufValueType.INT64, value }),
  f64: (value: number): TypedValue => ({ type: GgufValueType.FLOAT64, value }),
  arr: (itemType: ValueTypeId, value: (number | boolean | string)[]): TypedValue => ({ type: GgufValueType.ARRAY, itemType, value }),
};

/** Little-endian bytes collected in chunks. */
export class ByteSink {
  chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  scalar(type: number, v: number | boolean | string | bigint): void {
    const b = Buffer.alloc(8);
    switch (type) {
      case 0:
        b.writeUInt8(Number(v));
        return this.push(b.subarray(0, 1));
      case 1:
        b.writeInt8(Number(v));
        return this.push(b.subarray(0, 1));
      case 2:
        b.writeUInt16LE(Number(v));
        return this.push(b.subarray(0, 2));
      case 3:
        b.writeInt16LE(Number(v));
        return this.push(b.subarray(0, 2));
      case 4:
        b.writeUInt32LE(Number(v));
        return this.push(b.subarray(0, 4));
      case 5:
        b.writeInt32LE(Number(v));
        return this.push(b.subarray(0, 4));
      case 6:
        b.writeFloatLE(Number(v));
        return this.push(b.subarray(0, 4));
      case 7:
        b.writeUInt8(v ? 1 : 0);
        return this.push(b.subarray(0, 1));
      case 8:
        return this.str(String(v));
      case 10:
        b.writeBigUInt64LE(BigInt(v));
        return this.push(b);
      case 11:
        b.writeBigInt64LE(BigInt(v));
        return this.push(b);
      case 12:
        b.writeDoubleLE(Number(v));
        return this.push(b);
      default:
        throw new Error(`bad scalar type ${type}`);
    }
  }
}

/** Magic, version, counts and the metadata section: everything before the tensor infos. */
export function encodeGgufHeader(version: number, tensorCount: number, metadata: readonly [string, TypedValue][]): Buffer {
  const sink = new ByteSink();
  sink.push(Buffer.from('GGUF', 'ascii'));
  sink.u32(version);
  sink.u64(tensorCount);
  sink.u64(metadata.length);
  for (const [key, typed] of metadata) {
    sink.str(key);
    sink.u32(typed.type);
    if (typed.type === GgufValueType.ARRAY) {
      sink.u32(typed.itemType);
      sink.u64(typed.value.length);
      for (const item of typed.value) sink.scalar(typed.itemType, item);
    } else sink.scalar(typed.type, typed.value);
  }
  return Buffer.concat(sink.chunks);
}

export interface StreamedTensor {
  name: string;
  /** GGUF order: fastest-varying first. */
  ne: number[];
  type: number;
  byteLength: number;
  /** Produces the tensor's bytes when it is written (so only one is in memory). */
  data: () => Uint8Array;
}

/** Writes a GGUF file: `header` (encodeGgufHeader, or one copied from another file), tensor infos, aligned data. Returns the bytes written. */
export function writeGgufStreaming(
  file: string,
  header: Uint8Array,
  alignment: number,
  tensors: readonly StreamedTensor[],
  onTensor?: (name: string, index: number) => void,
): number {
  const align = (n: number) => Math.ceil(n / alignment) * alignment;
  const sink = new ByteSink();
  sink.push(Buffer.from(header));
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    sink.str(t.name);
    sink.u32(t.ne.length);
    for (const d of t.ne) sink.u64(d);
    sink.u32(t.type);
    sink.u64(offset);
    offsets.push(offset);
    offset = align(offset + t.byteLength);
  }
  sink.push(Buffer.alloc(align(sink.length) - sink.length));
  const fd = fs.openSync(file, 'w');
  try {
    let written = 0;
    for (const chunk of sink.chunks) written += fs.writeSync(fd, chunk);
    const dataStart = written;
    tensors.forEach((t, i) => {
      onTensor?.(t.name, i);
      written += fs.writeSync(fd, Buffer.alloc(dataStart + offsets[i]! - written));
      const bytes = t.data();
      if (bytes.length !== t.byteLength) throw new Error(`tensor "${t.name}": ${bytes.length} bytes, expected ${t.byteLength}`);
      written += fs.writeSync(fd, bytes);
    });
    return written;
  } finally {
    fs.closeSync(fd);
  }
}
