// @module The one event stream per request (token* then exactly one end or error), and its async channel.
import { GenerationError, RouterError } from '../errors.ts';

export interface TokenInfo {
  id: number;
  /** The token's own text (TGI `token.text`). */
  text: string;
  logprob: number;
  special: boolean;
}

export interface PrefillToken extends TokenInfo {
  topTokens: TokenInfo[];
}

export interface TokenEvent {
  type: 'token';
  /** 0-based position among generated tokens. */
  index: number;
  token: TokenInfo;
  /** Most likely alternatives (top_n_tokens / top_logprobs), best first; [] when not asked. */
  topTokens: TokenInfo[];
  /** Text this token adds to the output: UTF-8 complete, stop strings removed (may be ''). */
  delta: string;
}

export type FinishReason = 'length' | 'eos_token' | 'stop_sequence';

export interface RequestTimings {
  /** Arrival → first Prefill. */
  queueMs: number;
  /** Arrival → first token. */
  firstTokenMs: number;
  /** First Prefill → end. */
  inferenceMs: number;
  /** Arrival → end. */
  totalMs: number;
  /** inferenceMs / generated tokens. */
  perTokenMs: number;
}

export interface EndEvent {
  type: 'end';
  finishReason: FinishReason;
  /** The whole output (prompt first when return_full_text), stop string excluded. */
  generatedText: string;
  generatedTokens: number;
  /** The sampler's seed, or null for greedy decoding. */
  seed: number | null;
  inputLength: number;
  /** The stop string that ended generation, when finishReason is 'stop_sequence' from a string. */
  stop: string | null;
  /** Sum of the generated tokens' raw logprobs (best_of ranks choices by it). */
  cumulativeLogprob: number;
  /**
   * Prompt tokens with their logprobs (the first is NaN) and, when top-n was asked, their
   * alternatives; null unless promptLogprobs was asked.
   */
  prefill: PrefillToken[] | null;
  timings: RequestTimings;
}

export interface ErrorEvent {
  type: 'error';
  message: string;
  /** 'generation': a shard failed; 'cancelled': the client went away; 'unavailable': shutting down. */
  errorType: 'generation' | 'cancelled' | 'unavailable';
}

export type StreamEvent = TokenEvent | EndEvent | ErrorEvent;

/**
 * Single-producer single-consumer async queue of StreamEvents. It takes exactly one terminal event
 * (end or error); anything pushed after it is dropped, so a stream can never end twice.
 */
export class EventChannel implements AsyncIterable<StreamEvent> {
  readonly #buffer: StreamEvent[] = [];
  #waiter: (() => void) | null = null;
  #closed = false;
  readonly #onTerminal: ((e: EndEvent | ErrorEvent) => void) | undefined;

  constructor(onTerminal?: (e: EndEvent | ErrorEvent) => void) {
    this.#onTerminal = onTerminal;
  }

  /** True once the terminal event was pushed. */
  get closed(): boolean {
    return this.#closed;
  }

  push(event: StreamEvent): void {
    if (this.#closed) return;
    this.#buffer.push(event);
    if (event.type !== 'token') {
      this.#closed = true;
      this.#onTerminal?.(event);
    }
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    for (;;) {
      const event = this.#buffer.shift();
      if (event === undefined) {
        await new Promise<void>((resolve) => (this.#waiter = resolve));
        continue;
      }
      yield event;
      if (event.type !== 'token') return;
    }
  }
}

/** The RouterError an error event stands for: 503 when the router cannot serve now, else a generation error. */
export function streamErrorToRouterError(e: ErrorEvent): RouterError {
  return e.errorType === 'unavailable' ? new RouterError('unavailable', e.message) : new GenerationError(e.message);
}

/** Reads a stream to its end: the tokens and the end event; an error event throws GenerationError. */
export async function collect(events: AsyncIterable<StreamEvent>): Promise<{ tokens: TokenEvent[]; end: EndEvent }> {
  const tokens: TokenEvent[] = [];
  for await (const e of events) {
    if (e.type === 'token') tokens.push(e);
    else if (e.type === 'end') return { tokens, end: e };
    else throw streamErrorToRouterError(e);
  }
  throw new GenerationError('the request ended without a result');
}
