// @module One persistent framed connection to a peer (TCP or Unix socket): send frames, await them in order, with timeouts.
import net from 'node:net';
import { CollectiveError, ShardErrorCode } from '../errors.ts';
import { bytesOf, FrameDecoder, frameHeader, FrameKind, type Frame } from './framing.ts';

/** One rank's link to a peer, whatever carries the frames (a socket, or shared files beside one). */
export interface Link {
  /** Who is on the other end, for error messages. */
  peer: string;
  readonly closed: Error | null;
  onClose(listener: (err: Error) => void): void;
  /** Queues or writes one frame; await it before the next send on this link. */
  send(kind: FrameKind, view: ArrayBufferView): void | Promise<void>;
  recv(kind: FrameKind, timeoutMs: number, what?: string): Promise<Frame>;
  close(reason?: string, flush?: boolean): void;
}

interface Waiter {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
}

export class Connection implements Link {
  readonly #socket: net.Socket;
  readonly #decoder = new FrameDecoder();
  readonly #frames: Frame[] = [];
  readonly #waiters: Waiter[] = [];
  #closed: Error | null = null;
  readonly #onClose: ((err: Error) => void)[] = [];

  constructor(
    socket: net.Socket,
    /** Who is on the other end, for error messages ("rank 1 over tcp 10.0.0.2:40120"). */
    public peer: string,
  ) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
      } catch (err) {
        this.#fail(new CollectiveError(`bad frame from ${this.peer}: ${(err as Error).message}`));
        socket.destroy();
        return;
      }
      for (const f of frames) {
        const w = this.#waiters.shift();
        if (w) {
          if (w.timer) clearTimeout(w.timer);
          w.resolve(f);
        } else this.#frames.push(f);
      }
    });
    socket.on('error', (err) => this.#fail(new CollectiveError(`connection to ${this.peer} failed: ${err.message}`)));
    socket.on('close', () => this.#fail(new CollectiveError(`connection to ${this.peer} closed (peer stopped or died)`)));
  }

  get closed(): Error | null {
    return this.#closed;
  }

  /** Called once when the connection fails or closes (with the reason). */
  onClose(listener: (err: Error) => void): void {
    if (this.#closed) listener(this.#closed);
    else this.#onClose.push(listener);
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const l of this.#onClose.splice(0)) l(err);
    for (const w of this.#waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(err);
    }
  }

  /** Queues one frame; the view must not change until the next collective call (it may be written later). */
  send(kind: FrameKind, view: ArrayBufferView): void {
    if (this.#closed) throw this.#closed;
    const s = this.#socket;
    s.cork();
    s.write(frameHeader(kind, view.byteLength));
    if (view.byteLength > 0) s.write(bytesOf(view));
    s.uncork();
  }

  sendJson(value: unknown): void {
    this.send(FrameKind.json, new TextEncoder().encode(JSON.stringify(value)));
  }

  /** The next frame, which must be of `kind`; rejects after `timeoutMs` or when the connection ends. */
  async recv(kind: FrameKind, timeoutMs: number, what = 'a frame'): Promise<Frame> {
    const frame = await this.#next(timeoutMs, what);
    if (frame.kind !== kind) {
      const err = new CollectiveError(`expected ${what} (kind ${kind}) from ${this.peer}, got kind ${frame.kind}: the ranks are out of step`);
      this.#fail(err);
      this.#socket.destroy();
      throw err;
    }
    return frame;
  }

  #next(timeoutMs: number, what: string): Promise<Frame> {
    const ready = this.#frames.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: null };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(new CollectiveError(`${this.peer} sent no ${what} within ${timeoutMs} ms`, ShardErrorCode.CollectiveTimeout));
        }, timeoutMs);
      }
      this.#waiters.push(waiter);
    });
  }

  /** Stops waiting for frames and closes the socket (pending receives reject); `flush` sends what is queued first. */
  close(reason = 'closed locally', flush = false): void {
    this.#fail(new CollectiveError(`connection to ${this.peer} ${reason}`));
    if (flush) this.#socket.end();
    else this.#socket.destroy();
  }
}

/** Connects once; rejects on error or after `timeoutMs`. `target` is {host, port} or a Unix socket path. */
export function connectOnce(target: { host: string; port: number } | string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = typeof target === 'string' ? net.connect(target) : net.connect(target.port, target.host);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}
