// @module Same-host collective link: frames through two shared files in /dev/shm, polled (spin, then short sleeps) instead of a socket wake-up.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type Frame, type FrameKind, MAX_FRAME_BYTES } from './framing.ts';
import { CollectiveError, ShardErrorCode } from '../errors.ts';
import type { Connection, Link } from './transport.ts';

/**
 * Why: on this kind of VM a socket frame costs ~0.2–0.4 ms, nearly all of it the receiver's wake-up
 * from epoll; a decode step has ~20 of them. A file in /dev/shm read with pread is memory: the
 * receiver polls it and sees the frame within microseconds. Node cannot mmap, so the "shared memory"
 * is the page cache of a tmpfs file (a syscall per poll, no copy beyond the frame itself).
 *
 * Layout of one direction's file: a 64-byte header, then the payload and a 4-byte trailer.
 *   u32 @0 seq (written last: the frame is complete when it changes), u32 @4 kind, u32 @8 length,
 *   u32 @12 ack (written by the reader: the last seq it consumed), 16 bytes @16 nonce (rendezvous check).
 * One frame is in flight per direction: the writer waits for the ack of the previous one.
 */
const HEADER_BYTES = 64;
const NONCE_AT = 16;
const NONCE_BYTES = 16;
/** Frames above this travel on the socket (a marker in the file says so): Docker's /dev/shm is 64 MiB. */
export const SHM_MAX_FRAME_BYTES = 16 << 20;
/** The marker kind: "the frame follows on the socket". */
const VIA_SOCKET = 0xffff;

/** Where the files go: /dev/shm when it exists and is writable, else null (no shared-memory links). */
export function sharedMemoryDir(): string | null {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return '/dev/shm';
  } catch {
    return null;
  }
}

/** Rank 0's side of the rendezvous: creates the two files (to and from the peer) stamped with a nonce. */
export function createShmFiles(dir: string, tag: string): { toPeer: string; fromPeer: string; nonce: string } {
  const nonce = randomBytes(NONCE_BYTES).toString('hex');
  const base = path.join(dir, `tessera-tp-${tag}-${randomBytes(4).toString('hex')}`);
  const files = { toPeer: `${base}-down`, fromPeer: `${base}-up`, nonce };
  for (const f of [files.toPeer, files.fromPeer]) {
    const header = Buffer.alloc(HEADER_BYTES);
    Buffer.from(nonce, 'hex').copy(header, NONCE_AT);
    fs.writeFileSync(f, header, { mode: 0o600 });
  }
  return files;
}

/** Opens one of the files and checks its nonce (a different /dev/shm behind the same path fails here). */
function openChecked(file: string, nonce: string): number {
  const fd = fs.openSync(file, 'r+');
  const got = Buffer.alloc(NONCE_BYTES);
  fs.readSync(fd, got, 0, NONCE_BYTES, NONCE_AT);
  if (got.toString('hex') !== nonce) {
    fs.closeSync(fd);
    throw new Error(`${file} is not the file rank 0 created`);
  }
  return fd;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Pure spinning this long first: a peer that is nearly in step answers within it. */
const SPIN_NS = 50_000;
/** Let the event loop run this often while waiting, so a closed socket (dead peer) is noticed. */
const YIELD_EVERY_NS = 2_000_000;

/**
 * Polls until `poll` returns a value. Spins briefly, then sleeps in short steps that grow with the
 * wait (≤ 5 % of it, at most 0.5 ms): on 2 cores a spinning waiter would take the core that the
 * rank it waits for, or the router, needs.
 */
async function pollUntil<T>(poll: () => T | null, timeoutMs: number, closed: () => Error | null, timedOut: () => Error): Promise<T> {
  const start = process.hrtime.bigint();
  let lastYield = start;
  for (;;) {
    const err = closed();
    if (err) throw err;
    const got = poll();
    if (got !== null) return got;
    const now = process.hrtime.bigint();
    const waited = Number(now - start);
    if (waited > timeoutMs * 1e6) throw timedOut();
    if (Number(now - lastYield) > YIELD_EVERY_NS) {
      await nextTurn();
      lastYield = process.hrtime.bigint();
    } else if (waited > SPIN_NS) {
      Atomics.wait(sleeper, 0, 0, Math.min(0.5, Math.max(0.02, waited / 20e6)));
    }
  }
}

/** A link whose frames go through shared files; the socket stays for liveness and for oversized frames. */
export class ShmLink implements Link {
  readonly #out: number;
  readonly #in: number;
  #sent = 0;
  #received = 0;
  #fdsClosed = false;
  readonly #head = Buffer.alloc(12);
  readonly #word = Buffer.alloc(4);
  readonly #trailer = Buffer.alloc(4);

  /** `outFile` carries this rank's frames to the peer, `inFile` the peer's to this rank. */
  constructor(
    readonly conn: Connection,
    outFile: string,
    inFile: string,
    nonce: string,
    /** How long a send waits for the peer to take the previous frame. */
    readonly timeoutMs: number,
  ) {
    this.#out = openChecked(outFile, nonce);
    try {
      this.#in = openChecked(inFile, nonce);
    } catch (err) {
      fs.closeSync(this.#out);
      throw err;
    }
    conn.onClose(() => this.#closeFds());
  }

  get peer(): string {
    return this.conn.peer;
  }
  set peer(name: string) {
    this.conn.peer = name;
  }
  get closed(): Error | null {
    return this.conn.closed;
  }
  onClose(listener: (err: Error) => void): void {
    this.conn.onClose(listener);
  }

  async send(kind: FrameKind, view: ArrayBufferView): Promise<void> {
    await pollUntil(
      () => (this.#readWord(this.#out, 12) === this.#sent ? true : null),
      this.timeoutMs,
      () => this.closed,
      () => new CollectiveError(`${this.peer} did not take the previous frame within ${this.timeoutMs} ms`),
    );
    const seq = this.#sent + 1;
    let viaSocket = view.byteLength > SHM_MAX_FRAME_BYTES;
    if (!viaSocket) {
      try {
        this.#trailer.writeUInt32LE(seq, 0);
        const payload = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
        fs.writevSync(this.#out, [payload, this.#trailer], HEADER_BYTES);
      } catch {
        viaSocket = true; // e.g. ENOSPC on a small /dev/shm: this frame takes the socket
      }
    }
    this.#head.writeUInt32LE(viaSocket ? VIA_SOCKET : kind, 4);
    this.#head.writeUInt32LE(viaSocket ? 0 : view.byteLength, 8);
    fs.writeSync(this.#out, this.#head, 4, 8, 4);
    this.#word.writeUInt32LE(seq, 0);
    fs.writeSync(this.#out, this.#word, 0, 4, 0);
    this.#sent = seq;
    if (viaSocket) this.conn.send(kind, view);
  }

  async recv(kind: FrameKind, timeoutMs: number, what = 'a frame'): Promise<Frame> {
    const started = Date.now();
    const frame = await pollUntil(
      () => this.#tryRead(),
      timeoutMs,
      () => this.closed,
      () => new CollectiveError(`${this.peer} sent no ${what} within ${timeoutMs} ms`, ShardErrorCode.CollectiveTimeout),
    );
    if (frame.kind === (VIA_SOCKET as FrameKind)) return this.conn.recv(kind, Math.max(1, timeoutMs - (Date.now() - started)), what);
    if (frame.kind !== kind) {
      const err = new CollectiveError(`expected ${what} (kind ${kind}) from ${this.peer}, got kind ${frame.kind}: the ranks are out of step`);
      this.conn.close(`closed: ${err.message}`);
      throw err;
    }
    return frame;
  }

  close(reason?: string, flush?: boolean): void {
    this.conn.close(reason, flush);
    this.#closeFds();
  }

  #tryRead(): Frame | null {
    const seq = this.#received + 1;
    fs.readSync(this.#in, this.#head, 0, 12, 0);
    if (this.#head.readUInt32LE(0) !== seq) return null;
    const kind = this.#head.readUInt32LE(4);
    const length = this.#head.readUInt32LE(8);
    if (length > MAX_FRAME_BYTES) throw new CollectiveError(`bad frame from ${this.peer}: ${length} bytes`);
    const payload = new Uint8Array(new ArrayBuffer(length));
    if (kind !== VIA_SOCKET) {
      fs.readvSync(this.#in, [payload, this.#trailer], HEADER_BYTES);
      // The trailer is written after the payload: a stale one means the payload is not all there yet.
      if (this.#trailer.readUInt32LE(0) !== seq) return null;
    }
    this.#received = seq;
    this.#word.writeUInt32LE(seq, 0);
    fs.writeSync(this.#in, this.#word, 0, 4, 12);
    return { kind: kind as FrameKind, payload };
  }

  #readWord(fd: number, at: number): number {
    fs.readSync(fd, this.#word, 0, 4, at);
    return this.#word.readUInt32LE(0);
  }

  #closeFds(): void {
    if (this.#fdsClosed) return;
    this.#fdsClosed = true;
    fs.closeSync(this.#out);
    fs.closeSync(this.#in);
  }
}
