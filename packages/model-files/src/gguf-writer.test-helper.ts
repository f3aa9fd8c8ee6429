// @module Test helper: a tiny GGUF (v2/v3) writer, with F32/F16/Q8_0 encoders, for parser and loader tests.

import fs from 'node:fs';
import { f32ToF16Bits } from './float16.ts';
import { GgufValueType } from './gguf.ts';
import { ByteSink, gv, type TypedValue } from './gguf-write.ts';

export { gv, type TypedValue };

export interface GgufTensorEntry {
  name: string;
  /** GGUF order: fastest-varying first. */
  ne: number[];
  type: number;
  bytes: Uint8Array;
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
