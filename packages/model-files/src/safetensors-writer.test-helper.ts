// @module Test helper: writes small .safetensors files (F32/F16/BF16 and any raw dtype) for loader tests.

import fs from 'node:fs';
import { f32ToF16Array } from './float16.ts';

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export function f16Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(f32ToF16Array(Float32Array.from(values)).buffer);
}

/** bfloat16 by truncation: exact for values whose low 16 f32 bits are zero (what the tests use). */
export function bf16Bytes(values: ArrayLike<number>): Uint8Array {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  return new Uint8Array(Uint16Array.from(bits, (b) => b >>> 16).buffer);
}

/** Writes the header (8-byte LE length + JSON, space-padded to 8 bytes) and the concatenated data. */
export function writeSafetensors(file: string, entries: SafetensorsEntry[], metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeFileSync(file, Buffer.concat([length, Buffer.from(json), ...entries.map((e) => Buffer.from(e.bytes))]));
}
