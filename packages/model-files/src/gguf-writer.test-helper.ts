// @module Test helper: a tiny GGUF (v2/v3) writer, with F32/F16/Q8_0 encoders, for parser and loader tests.

import fs from 'node:fs';
import { f32ToF16Bits } from './float16.ts';
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

export interface GgufTensorEntry {
  name: string;
  /** GGUF order: fastest-varying first. */
  ne: number[];
  type: number;
  bytes: Uint8Array;
}

class ByteSink {
  chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void { this.chunks.push(b); this.length += b.length; }
  u32(v: number): void { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.push(b); }
  u64(v: number): void { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.push(b); }
  str(s: string): void { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.push(b); }
  scalar(type: number, v: number | boolean | string | bigint): void {
    const b = Buffer.alloc(8);
    switch (type) {
      case 0: b.writeUInt8(Number(v)); return this.push(b.subarray(0, 1));
      case 1: b.writeInt8(Number(v)); return this.push(b.subarray(0, 1));
      case 2: b.writeUInt16LE(Number(v)); return this.push(b.subarray(0, 2));
      case 3: b.writeInt16LE(Number(v)); return this.push(b.subarray(0, 2));
      case 4: b.writeUInt32LE(Number(v)); return this.push(b.subarray(0, 4));
      case 5: b.writeInt32LE(Number(v)); return this.push(b.subarray(0, 4));
      case 6: b.writeFloatLE(Number(v)); return this.push(b.subarray(0, 4));
      case 7: b.writeUInt8(v ? 1 : 0); return this.push(b.subarray(0, 1));
      case 8: return this.str(String(v));
      case 10: b.writeBigUInt64LE(BigInt(v)); return this.push(b);
      case 11: b.writeBigInt64LE(BigInt(v)); return this.push(b);
      case 12: b.writeDoubleLE(Number(v)); return this.push(b);
      default: throw new Error(`bad scalar type ${type}`);
    }
  }
}

/** Writes a GGUF file. `alignment` is written as general.alignment when not 32. */
export function writeGguf(
  file: string,
  options: { version?: number; metadata: [string, TypedValue][]; tensors: GgufTensorEntry[]; alignment?: number },
): void {
  const alignment = options.alignment ?? 32;
  const metadata = [...options.metadata];
  if (alignment !== 32) metadata.push(['general.alignment', gv.u32(alignment)]);
  const sink = new ByteSink();
  sink.push(Buffer.from('GGUF', 'ascii'));
  sink.u32(options.version ?? 3);
  sink.u64(options.tensors.length);
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
  const align = (n: number) => Math.ceil(n / alignment) * alignment;
  let offset = 0;
  const offsets: number[] = [];
  for (const t of options.tensors) {
    sink.str(t.name);
    sink.u32(t.ne.length);
    for (const d of t.ne) sink.u64(d);
    sink.u32(t.type);
    sink.u64(offset);
    offsets.push(offset);
    offset = align(offset + t.bytes.length);
  }
  sink.push(Buffer.alloc(align(sink.length) - sink.length));
  options.tensors.forEach((t, i) => {
    sink.push(Buffer.from(t.bytes));
    const next = i + 1 < offsets.length ? offsets[i + 1]! : align(offsets[i]! + t.bytes.length);
    sink.push(Buffer.alloc(next - offsets[i]! - t.bytes.length));
  });
  fs.writeFileSync(file, Buffer.concat(sink.chunks));
}

/** Q8_0 as ggml's reference quantiser: per 32 values, d = max|x| / 127 (stored f16), q = round(x / d). */
export function quantizeQ8_0(values: ArrayLike<number>): Uint8Array {
  if (values.length % 32 !== 0) throw new Error('Q8_0 needs a multiple of 32 values');
  const out = Buffer.alloc((values.length / 32) * 34);
  for (let block = 0; block < values.length / 32; block++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(values[block * 32 + i]!));
    const d = amax / 127;
    const inverse = d ? 1 / d : 0;
    out.writeUInt16LE(f32ToF16Bits(d), block * 34);
    for (let i = 0; i < 32; i++) out.writeInt8(Math.round(values[block * 32 + i]! * inverse), block * 34 + 2 + i);
  }
  return new Uint8Array(out);
}
