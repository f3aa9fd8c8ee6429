// @module The shard's end of the Calls stream: model calls multiplexed on one long-lived bidi stream, replies matched by id.
import * as grpc from '@grpc/grpc-js';
import type { CallReply } from './generated/tessera/v1/CallReply.ts';
import type { CallRequest__Output } from './generated/tessera/v1/CallRequest.ts';
import type { ShardHandlers } from './index.ts';
import { fromWireClearCacheRequest, fromWireDecodeRequest, fromWireFilterBatchRequest, fromWirePrefillRequest } from './wire.ts';

/** The open Calls streams of a server, so that its shutdown can end them (else it waits on them). */
export class OpenCalls {
  readonly #streams = new Set<CallsStream>();

  add(s: CallsStream): void {
    this.#streams.add(s);
  }

  delete(s: CallsStream): void {
    this.#streams.delete(s);
  }

  /** Each stream ends once its calls in flight have answered; later calls are refused as UNAVAILABLE. */
  drain(): void {
    for (const s of this.#streams) s.drain();
  }
}

type Call = grpc.ServerDuplexStream<CallRequest__Output, CallReply>;

class CallsStream {
  #inFlight = 0;
  #draining = false;
  #ended = false;

  constructor(
    readonly call: Call,
    readonly h: ShardHandlers,
  ) {}

  /** Calls run as they arrive (the runner thread serialises them in arrival order, as unary calls). */
  onRequest(msg: CallRequest__Output): void {
    const id = msg.id;
    if (this.#draining) {
      this.#reply({ id, error: { code: grpc.status.UNAVAILABLE, message: 'the shard is shutting down' } });
      return;
    }
    this.#inFlight++;
    this.#run(msg)
      .then(
        (reply) => this.#reply({ id, ...reply }),
        (err: unknown) => {
          const e = err as { message?: string; grpcCode?: number };
          this.#reply({ id, error: { code: e.grpcCode ?? grpc.status.INTERNAL, message: e.message ?? String(err) } });
        },
      )
      .finally(() => {
        this.#inFlight--;
        if (this.#draining && this.#inFlight === 0) this.end();
      });
  }

  async #run(msg: CallRequest__Output): Promise<Omit<CallReply, 'id'>> {
    switch (msg.call) {
      case 'prefill':
        return { prefill: await this.h.prefill(fromWirePrefillRequest(msg.prefill!)) };
      case 'decode':
        return { decode: await this.h.decode(fromWireDecodeRequest(msg.decode!)) };
      case 'filterBatch':
        return { filterBatch: await this.h.filterBatch(fromWireFilterBatchRequest(msg.filterBatch!)) };
      case 'clearCache':
        await this.h.clearCache(fromWireClearCacheRequest(msg.clearCache!));
        return { clearCache: {} };
      default:
        throw Object.assign(new Error(`unknown call ${JSON.stringify(msg.call)}`), { grpcCode: grpc.status.INVALID_ARGUMENT });
    }
  }

  #reply(r: CallReply): void {
    if (!this.#ended) this.call.write(r);
  }

  drain(): void {
    this.#draining = true;
    if (this.#inFlight === 0) this.end();
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.call.end();
  }
}

/** The Calls handler; every stream it opens is tracked in `open`. */
export function callsHandler(h: ShardHandlers, open: OpenCalls) {
  return (call: Call) => {
    const stream = new CallsStream(call, h);
    open.add(stream);
    call.on('data', (msg: CallRequest__Output) => stream.onRequest(msg));
    // The router half-closed: answer what is in flight, then end.
    call.on('end', () => stream.drain());
    call.on('cancelled', () => stream.end());
    call.on('close', () => open.delete(stream));
  };
}
