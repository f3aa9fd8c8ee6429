// @module Admission (429) → validation → submit to the batcher → the request's StreamEvent stream.
import type { TextTokenizer } from '@tessera/tokenization';
import { ConstraintCompiler, GrammarError } from '@tessera/grammar';
import { OverloadedError, RouterError, ValidationError } from '../errors.ts';
import type { RouterMetrics } from '../metrics.ts';
import type { GenerationSink } from '../scheduler/batcher.ts';
import type { GenerateRequest, ValidRequest } from '../validation/valid-request.ts';
import type { EncodedPrompt, Validator } from '../validation/validate.ts';
import type { PromptEncoder } from '../validation/prompt-encoder.ts';
import { EventChannel, type EndEvent, type ErrorEvent, type StreamEvent } from './events.ts';
import { RequestState, type TokenObserver } from './request-state.ts';
import { requestContext, type RequestRecord } from '../observability/request-context.ts';

/** Where validated requests go (the Batcher). */
export interface RequestSubmitter {
  submit(request: ValidRequest, sink: GenerationSink): void;
}

export interface InferOptions {
  validator: Validator;
  /** Renders and tokenizes prompts off the event loop; without it encode() runs on this thread. */
  encoder?: PromptEncoder;
  batcher: RequestSubmitter;
  tokenizer: TextTokenizer;
  /** Requests in flight before 429. */
  maxConcurrentRequests: number;
  metrics?: RouterMetrics;
}

export interface InferStream {
  readonly request: ValidRequest;
  /** token* then exactly one end or error event. */
  readonly events: AsyncIterable<StreamEvent>;
}

/**
 * Prompts this short (in UTF-16 units), and token ids, are encoded on the event loop: tokenizing one
 * costs tens of microseconds, less than the two thread hops to an encoder thread that has gone idle,
 * and the first token waits on them (docs/benchmarks.md). Chats always go to the pool (the template
 * render alone is ~0.2 ms).
 */
export const INLINE_PROMPT_CHARS = 1024;

function encodesInline(input: GenerateRequest['input']): boolean {
  if (input.kind === 'chat') return false;
  const v = input.value;
  const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof one === 'string') return one.length <= INLINE_PROMPT_CHARS;
  return Array.isArray(one) && one.length <= INLINE_PROMPT_CHARS && one.every((x) => typeof x === 'number');
}

export class Infer {
  readonly #opts: InferOptions;
  #inFlight = 0;
  /** Requests being rendered/tokenized (counted against maxConcurrentRequests too). */
  #encoding = 0;
  #idle: (() => void)[] = [];
  #closed = false;
  /** Loaded on the first constrained request (the engine's WASM takes ~0.1 s to instantiate). */
  #compiler: ConstraintCompiler | null = null;

  constructor(opts: InferOptions) {
    this.#opts = opts;
  }

  get #constraints(): ConstraintCompiler {
    this.#compiler ??= new ConstraintCompiler();
    return this.#compiler;
  }

  /** The request validator (chat rendering and tokenization for /tokenize and /chat_tokenize). */
  get validator(): Validator {
    return this.#opts.validator;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Renders and tokenizes the request's prompt (on the encoder's worker threads), after the cheap
   * checks; the result goes to generate(). Throws OverloadedError / ValidationError.
   */
  async encode(req: GenerateRequest): Promise<EncodedPrompt> {
    this.#admit();
    const options = this.#opts.validator.promptOptions(req);
    const grammar = this.#grammar(req);
    const encoder = this.#opts.encoder;
    if (encoder === undefined || encodesInline(req.input)) return { ...this.#opts.validator.encodePrompt(req.input, options), ...(await grammar) };
    this.#opts.validator.rejectLongText(req.input, options);
    this.#encoding++;
    try {
      const [prompt, compiled] = await Promise.all([encoder.encode(req.input, options), grammar]);
      return { ...prompt, ...compiled };
    } finally {
      this.#encoding--;
    }
  }

  /** A constrained request's wire grammar, compiled (cached) beside the tokenizing; a refused one is a 400 naming its field. */
  async #grammar(req: GenerateRequest): Promise<{ grammar?: string }> {
    const c = req.constraint;
    if (c === undefined) return {};
    const encoder = this.#opts.encoder;
    if (encoder?.compileGrammar !== undefined) return { grammar: await encoder.compileGrammar(c) };
    try {
      return { grammar: await this.#constraints.wire(c.constraint) };
    } catch (err) {
      if (err instanceof GrammarError) throw new ValidationError(`\`${c.field}\`: ${err.message}`, c.field);
      throw err;
    }
  }

  #admit(): void {
    if (this.#closed) throw new RouterError('unavailable', 'the router is shutting down');
    if (this.#inFlight + this.#encoding >= this.#opts.maxConcurrentRequests) throw new OverloadedError();
  }

  /**
   * Admits, validates and queues a request (`encoded`: its prompt from encode(); else tokenized here).
   * Throws OverloadedError / ValidationError before anything is queued; afterwards every outcome
   * arrives as an event. Aborting `signal` cancels the request.
   */
  generate(req: GenerateRequest, signal?: AbortSignal, encoded?: EncodedPrompt): InferStream {
    if (this.#closed) throw new RouterError('unavailable', 'the router is shutting down');
    if (this.#inFlight >= this.#opts.maxConcurrentRequests) throw new OverloadedError();
    const arrivedAt = performance.now();
    const valid = this.#opts.validator.validate(req, encoded);
    this.#inFlight++;
    this.#opts.metrics?.inFlight.set(this.#inFlight);
    const record = requestContext.getStore();
    const channel = new EventChannel((e) => this.#onTerminal(valid, e, record));
    const state = new RequestState(valid, this.#opts.tokenizer, channel, arrivedAt, this.#tokenObserver());
    if (signal !== undefined) {
      if (signal.aborted) state.cancel();
      else signal.addEventListener('abort', () => state.cancel(), { once: true });
    }
    if (!state.done) this.#opts.batcher.submit(valid, state);
    return { request: valid, events: channel };
  }

  /** Refuses new requests from now on (503); those in flight continue. */
  close(): void {
    this.#closed = true;
  }

  /** Resolves when no request is in flight (for a graceful shutdown). */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #tokenObserver(): TokenObserver | undefined {
    const m = this.#opts.metrics;
    if (m === undefined) return undefined;
    return {
      firstToken: (ms) => m.observeFirstToken(ms / 1000),
      nextTokens: (count, ms) => m.observeNextTokens(count, ms / 1000),
    };
  }

  #onTerminal(valid: ValidRequest, e: EndEvent | ErrorEvent, record: RequestRecord | undefined): void {
    this.#inFlight--;
    if (record !== undefined) record.generation = generationRecord(valid, e, record.logPrompts);
    const m = this.#opts.metrics;
    if (m !== undefined) {
      m.inFlight.set(this.#inFlight);
      if (e.type === 'end') {
        const t = e.timings;
        m.observeFinished({
          finishReason: e.finishReason,
          inputTokens: valid.inputIds.length,
          generatedTokens: e.generatedTokens,
          totalSeconds: t.totalMs / 1000,
          queueSeconds: t.queueMs / 1000,
          inferenceSeconds: t.inferenceMs / 1000,
          perTokenSeconds: t.perTokenMs / 1000,
        });
      } else {
        m.observeFailed(e.errorType);
      }
    }
    if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }
}

/** The completion log line's generation fields; text only when --log-prompts. */
function generationRecord(valid: ValidRequest, e: EndEvent | ErrorEvent, logPrompts: boolean): RequestRecord['generation'] {
  const base = { inputTokens: valid.inputIds.length, ...(logPrompts ? { prompt: valid.promptText } : {}) };
  if (e.type === 'error') return { outcome: e.errorType, generatedTokens: 0, ...base };
  const t = e.timings;
  return {
    outcome: e.finishReason,
    generatedTokens: e.generatedTokens,
    queueMs: round(t.queueMs),
    firstTokenMs: round(t.firstTokenMs),
    inferenceMs: round(t.inferenceMs),
    perTokenMs: round(t.perTokenMs),
    ...base,
    ...(logPrompts ? { output: e.generatedText } : {}),
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
