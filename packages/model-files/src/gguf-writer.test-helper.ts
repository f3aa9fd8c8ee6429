// @module Test helper: a tiny GGUF (v2/v3) writer, with F32/F16/Q8_0 encoders, for parser and loader tests.

import { f32ToF16Bits } from './float16.ts';
import { encodeGgufHeader, gv, writeGgufStreaming, type TypedValue } from './gguf-write.ts';

export { gv, type TypedValue };

export interface GgufTensorEntry {
  name: string;
  /** GGUF order: fastest-varying first. */
  ne: number[];
  type: number;
  bytes: Uint8Array;
}

/** Writes a GGUF file. `alignment` is written as general.alignment when not 32. */
export function writeGguf(file: string, options: { version?: number; metadata: [string, TypedValue][]; tensors: GgufTensorEntry[]; alignment?: number }): void {
  const alignment = options.alignment ?? 32;
  const metadata = [...options.metadata];
  if (alignment !== 32) metadata.push(['general.alignment', gv.u32(alignment)]);
  const header = encodeGgufHeader(options.version ?? 3, options.tensors.length, metadata);
  writeGgufStreaming(
    file,
    header,
    alignment,
    options.tensors.map((t) => ({ ...t, byteLength: t.bytes.length, data: () => t.bytes })),
  );
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
