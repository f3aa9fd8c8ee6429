// @module Synchronous byte-range reads, so big weight files are never loaded whole.

import fs from 'node:fs';

const utf8Decoder = new TextDecoder('utf-8');

/** Reads `length` bytes at `offset` into a fresh (hence 8-byte aligned) buffer; throws if the file is short. */
export function readFileRange(path: string, offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(length));
  const fd = fs.openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, bytes, done, length - done, offset + done);
      if (n === 0) throw new RangeError(`unexpected end of file at byte ${offset + done} (wanted ${length} bytes at ${offset})`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

/** A forward-only little-endian reader over a file that pulls chunks on demand (for headers of unknown size). */
export class FileCursor {
  readonly #fd: number;
  readonly #size: number;
  #chunk = new Uint8Array(0);
  #chunkStart = 0;
  position = 0;

  constructor(
    readonly path: string,
    readonly chunkSize = 1 << 20,
  ) {
    this.#fd = fs.openSync(path, 'r');
    this.#size = fs.fstatSync(this.#fd).size;
  }

  get size(): number {
    return this.#size;
  }

  close(): void {
    fs.closeSync(this.#fd);
  }

  /** `n` bytes at the cursor as a view (valid until the next call); advances the cursor. */
  bytes(n: number): Uint8Array {
    const offsetInChunk = this.position - this.#chunkStart;
    if (offsetInChunk < 0 || offsetInChunk + n > this.#chunk.length) this.#fill(n);
    const start = this.position - this.#chunkStart;
    this.position += n;
    return this.#chunk.subarray(start, start + n);
  }

  #fill(n: number): void {
    if (this.position + n > this.#size) {
      throw new RangeError(`unexpected end of file at byte ${this.position} (wanted ${n} more bytes, file has ${this.#size})`);
    }
    const length = Math.min(Math.max(n, this.chunkSize), this.#size - this.position);
    const chunk = new Uint8Array(length);
    let done = 0;
    while (done < length) done += fs.readSync(this.#fd, chunk, done, length - done, this.position + done);
    this.#chunk = chunk;
    this.#chunkStart = this.position;
  }

  #view(n: number): DataView {
    const b = this.bytes(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  u8(): number {
    return this.#view(1).getUint8(0);
  }
  i8(): number {
    return this.#view(1).getInt8(0);
  }
  u16(): number {
    return this.#view(2).getUint16(0, true);
  }
  i16(): number {
    return this.#view(2).getInt16(0, true);
  }
  u32(): number {
    return this.#view(4).getUint32(0, true);
  }
  i32(): number {
    return this.#view(4).getInt32(0, true);
  }
  f32(): number {
    return this.#view(4).getFloat32(0, true);
  }
  f64(): number {
    return this.#view(8).getFloat64(0, true);
  }
  /** u64 as a number; throws past 2^53 (no real size or count gets there). */
  u64(): number {
    const v = this.#view(8).getBigUint64(0, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`u64 value ${v} at byte ${this.position - 8} is too large`);
    return Number(v);
  }
  i64(): number {
    return Number(this.#view(8).getBigInt64(0, true));
  }
  utf8(n: number): string {
    return utf8Decoder.decode(this.bytes(n));
  }
}
