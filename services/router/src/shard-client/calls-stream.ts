// @module The router's end of a shard's Calls stream: model calls as messages on one long-lived bidi stream, replies matched by id.
import { grpc } from '@tessera/protocol';
import type { CallReply__Output } from '@tessera/protocol';

/** The calls that travel on the stream, with the oneof field that carries each. */
export const STREAM_CALLS = { Prefill: 'prefill', Decode: 'decode', FilterBatch: 'filterBatch', ClearCache: 'clearCache' } as const;
export type StreamCall = keyof typeof STREAM_CALLS;

/** A failed call: the gRPC status its unary form would have ended with. */
export interface CallFailure {
  code: number | null;
  message: string;
}

interface Pending {
  resolve(reply: unknown): void;
  reject(reason: CallFailure | CallsUnsupported): void;
  timer: NodeJS.Timeout | null;
}

/** The shard predates the Calls RPC: use the unary calls. */
export class CallsUnsupported extends Error {}

type Duplex = grpc.ClientDuplexStream<unknown, CallReply__Output>;

/**
 * Opened on the first call and kept; when it breaks (shard restart, network), its calls in flight
 * fail as their unary forms would (same status codes) and the next call opens a new one.
 */
export class CallsStream {
  #call: Duplex | null = null;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #unsupported = false;

  constructor(readonly client: grpc.Client) {}

  get supported(): boolean {
    return !this.#unsupported;
  }

  /** Resolves the reply's message for `method`; rejects with a CallFailure, or CallsUnsupported. */
  call(method: StreamCall, req: unknown, deadlineMs: number | null): Promise<unknown> {
    if (this.#unsupported) return Promise.reject(new CallsUnsupported());
    const call = this.#open();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        deadlineMs === null
          ? null
          : setTimeout(() => {
              this.#pending.delete(id);
              reject({ code: grpc.status.DEADLINE_EXCEEDED, message: 'Deadline exceeded' } satisfies CallFailure);
            }, deadlineMs);
      this.#pending.set(id, { resolve, reject, timer });
      call.write({ id, [STREAM_CALLS[method]]: req });
    });
  }

  close(): void {
    this.#call?.end();
    this.#call = null;
  }

  #open(): Duplex {
    if (this.#call !== null) return this.#call;
    const method = (this.client as unknown as Record<string, (meta: grpc.Metadata, opts: grpc.CallOptions) => Duplex>).Calls!;
    const call = method.call(this.client, new grpc.Metadata(), {});
    this.#call = call;
    call.on('data', (reply: CallReply__Output) => this.#settle(reply));
    call.on('error', (err: grpc.ServiceError) => {
      if (err.code === grpc.status.UNIMPLEMENTED) this.#unsupported = true;
      this.#broken(call, { code: err.code ?? null, message: err.details || err.message });
    });
    call.on('end', () => this.#broken(call, { code: grpc.status.UNAVAILABLE, message: 'the shard ended the calls stream' }));
    return call;
  }

  #settle(reply: CallReply__Output): void {
    const p = this.#pending.get(reply.id);
    if (p === undefined) return; // timed out meanwhile
    this.#pending.delete(reply.id);
    if (p.timer !== null) clearTimeout(p.timer);
    if (reply.reply === 'error') p.reject({ code: reply.error!.code, message: reply.error!.message });
    else p.resolve(reply[reply.reply!]);
  }

  /** Every call in flight fails with the stream's status; the next call opens a new stream. */
  #broken(call: Duplex, failure: CallFailure): void {
    if (this.#call === call) this.#call = null;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      if (p.timer !== null) clearTimeout(p.timer);
      p.reject(this.#unsupported ? new CallsUnsupported() : failure);
    }
  }
}
