// @module Length-prefixed binary frames for the collective: an 8-byte header (u32 length, u32 kind) then the payload.

/** What a frame carries; the receiver checks it so a desynchronised peer fails loudly. */
export const FrameKind = { json: 1, f32: 2, i32: 3 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export const FRAME_HEADER_BYTES = 8;
/** Largest payload accepted (guards against reading garbage as a length). */
export const MAX_FRAME_BYTES = 1 << 30;

export interface Frame {
  kind: FrameKind;
  /** Own, 8-byte-aligned memory: Float32Array / Int32Array views over it need no copy. */
  payload: Uint8Array;
}

/** The header of a frame of `byteLength` payload bytes. */
export function frameHeader(kind: FrameKind, byteLength: number): Buffer {
  if (byteLength > MAX_FRAME_BYTES) throw new Error(`collective frame of ${byteLength} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(byteLength, 0);
  header.writeUInt32LE(kind, 4);
  return header;
}

export function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

export function asFloat32(frame: Frame): Float32Array {
  return new Float32Array(frame.payload.buffer, frame.payload.byteOffset, frame.payload.byteLength / 4);
}

export function asInt32(frame: Frame): Int32Array {
  return new Int32Array(frame.payload.buffer, frame.payload.byteOffset, frame.payload.byteLength / 4);
}

export function asJson<T>(frame: Frame): T {
  return JSON.parse(new TextDecoder().decode(frame.payload)) as T;
}

/**
 * Reassembles frames from stream chunks of any size. The payload is copied once, straight into a
 * buffer of its final size (no repeated concatenation for frames spanning many chunks).
 */
export class FrameDecoder {
  readonly #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerFill = 0;
  #payload: Uint8Array | null = null;
  #payloadFill = 0;
  #kind: FrameKind = FrameKind.json;

  /** Feeds one chunk; returns the frames it completed, in order. Throws on a malformed header. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#payload === null) {
        const take = Math.min(FRAME_HEADER_BYTES - this.#headerFill, chunk.length - at);
        this.#header.set(chunk.subarray(at, at + take), this.#headerFill);
        this.#headerFill += take;
        at += take;
        if (this.#headerFill < FRAME_HEADER_BYTES) break;
        const length = this.#header.readUInt32LE(0);
        const kind = this.#header.readUInt32LE(4);
        if (kind !== FrameKind.json && kind !== FrameKind.f32 && kind !== FrameKind.i32) throw new Error(`collective frame has unknown kind ${kind}`);
        if (length > MAX_FRAME_BYTES) throw new Error(`collective frame of ${length} bytes exceeds the limit`);
        this.#kind = kind;
        this.#payload = new Uint8Array(new ArrayBuffer(length));
        this.#payloadFill = 0;
        this.#headerFill = 0;
      }
      const payload = this.#payload;
      const take = Math.min(payload.length - this.#payloadFill, chunk.length - at);
      payload.set(chunk.subarray(at, at + take), this.#payloadFill);
      this.#payloadFill += take;
      at += take;
      if (this.#payloadFill === payload.length) {
        frames.push({ kind: this.#kind, payload });
        this.#payload = null;
      }
    }
    return frames;
  }
}
