// @module Server-sent events framing: `data:` lines, blank-line separators, OpenAI's [DONE], close detection.
import type { Response } from 'express';

export interface SseOptions {
  /** Put a space after `data:` (OpenAI and its clients) or not (TGI's wire format). */
  space: boolean;
  /** Cut clients that stop reading (see SseLimits). */
  limits?: SseLimits;
}

/**
 * A client that stops reading would make its stream queue every remaining token in memory while
 * its generation keeps its KV blocks. Past maxBufferedBytes the response is destroyed: the 'close'
 * reaches clientGone(), which cancels the generation like any disconnect.
 */
export interface SseLimits {
  maxBufferedBytes: number;
  onSlowReader(res: Response, bufferedBytes: number): void;
}

/** Frames one event: every line of `data` gets its own `data:` field (SSE forbids raw newlines). */
export function sseFrame(data: string, opts: SseOptions): string {
  const prefix = opts.space ? 'data: ' : 'data:';
  return (
    data
      .split(/\r\n|\r|\n/)
      .map((line) => prefix + line)
      .join('\n') + '\n\n'
  );
}

export class SseWriter {
  readonly #res: Response;
  readonly #opts: SseOptions;
  #ended = false;

  constructor(res: Response, opts: SseOptions) {
    this.#res = res;
    this.#opts = opts;
  }

  /**
   * Sends the status line and headers, so clients see the stream open before the first token — after
   * the current turn of the event loop: the request's prefill, queued in this turn, is then on its way
   * to the shards before the header write (~0.3 ms) instead of after it.
   */
  async open(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#res.status(200);
    this.#res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.#res.setHeader('Cache-Control', 'no-cache');
    this.#res.setHeader('Connection', 'keep-alive');
    this.#res.setHeader('X-Accel-Buffering', 'no');
    this.#res.flushHeaders();
  }

  /** False once the client is gone or the stream was ended. */
  get writable(): boolean {
    return !this.#ended && !this.#res.destroyed && this.#res.writable;
  }

  sendJson(value: unknown): void {
    this.send(JSON.stringify(value));
  }

  send(data: string): void {
    if (!this.writable) return;
    this.#res.write(sseFrame(data, this.#opts));
    const limits = this.#opts.limits;
    // writableLength: bytes queued in Node (response and socket) that the kernel did not take yet.
    if (limits !== undefined && this.#res.writableLength > limits.maxBufferedBytes) {
      limits.onSlowReader(this.#res, this.#res.writableLength);
      this.#ended = true;
      this.#res.destroy();
    }
  }

  /** OpenAI's end-of-stream sentinel. */
  sendDone(): void {
    this.send('[DONE]');
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#res.destroyed) this.#res.end();
  }
}

/** An AbortSignal that fires when the client disconnects before the response finished. */
export function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
