// @module Streaming F32 safetensors writer: 8-byte LE header length, sorted JSON header padded to 8 bytes, data.

import fs from 'node:fs/promises';
import os from 'node:os';

const elementCount = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export interface F32TensorSource {
  name: string;
  shape: number[];
  /** Called once, in name order, while writing; lets big models stream tensor by tensor. */
  data: () => Float32Array;
}

/**
 * The header bytes (length prefix included) for tensors written in sorted-name order. The JSON is
 * padded with spaces so the data section starts 8-byte aligned, as the format recommends.
 */
export function safetensorsHeader(tensors: { name: string; shape: number[] }[], metadata: Record<string, string> = {}): { bytes: Buffer; dataBytes: number } {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  for (const t of sorted) {
    if (Object.hasOwn(header, t.name)) throw new Error(`safetensors: duplicate tensor name "${t.name}"`);
    const end = offset + elementCount(t.shape) * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let json = JSON.stringify(header);
  const unpadded = Buffer.byteLength(json);
  json += ' '.repeat((8 - ((8 + unpadded) % 8)) % 8);
  const jsonBytes = Buffer.from(json, 'utf8');
  const bytes = Buffer.alloc(8 + jsonBytes.length);
  bytes.writeBigUInt64LE(BigInt(jsonBytes.length), 0);
  jsonBytes.copy(bytes, 8);
  return { bytes, dataBytes: offset };
}

/** Writes `file` (F32 only). Returns the file size in bytes. */
export async function writeSafetensorsF32(
  file: string,
  tensors: F32TensorSource[],
  metadata: Record<string, string> = {},
  onTensor?: (index: number, total: number, name: string) => void,
): Promise<number> {
  if (os.endianness() !== 'LE') throw new Error('safetensors writer: big-endian hosts are not supported');
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { bytes, dataBytes } = safetensorsHeader(sorted, metadata);
  const handle = await fs.open(file, 'w');
  try {
    await writeAll(handle, bytes);
    for (let i = 0; i < sorted.length; i++) {
      const t = sorted[i]!;
      const data = t.data();
      if (data.length !== elementCount(t.shape)) {
        throw new Error(`safetensors: tensor "${t.name}" has ${data.length} values, shape [${t.shape}] needs ${elementCount(t.shape)}`);
      }
      await writeAll(handle, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      onTensor?.(i + 1, sorted.length, t.name);
    }
  } finally {
    await handle.close();
  }
  return bytes.length + dataBytes;
}

async function writeAll(handle: fs.FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}
