// @module Prompt encoders: chat rendering + tokenization on a small pool of worker threads, so one huge prompt never stalls the event loop.
import type { ConstraintParam } from './constraints.ts';
import { Worker } from 'node:worker_threads';
import { workerBootstrap } from '@tessera/protocol';
import type { TokenizerFiles } from '@tessera/model-files';
import { RouterError, UnsupportedError, ValidationError, type ErrorCode } from '../errors.ts';
import { restoreLargeStrings, type LiftedString } from './large-strings.ts';
import type { PromptInput } from './valid-request.ts';
import type { EncodedPrompt, PromptOptions, ValidationLimits, Validator } from './validate.ts';

/** Renders and tokenizes prompts (Validator.encodePrompt), here or elsewhere. */
export interface PromptEncoder {
  encode(input: PromptInput, options: PromptOptions): Promise<EncodedPrompt>;
  /** A constraint's wire grammar, compiled off the event loop; a refused one rejects with a ValidationError naming its field. */
  compileGrammar?(c: ConstraintParam): Promise<string>;
  close(): Promise<void>;
}

/** On the calling thread: for tests and `--validation-workers 0`. */
export function inlineEncoder(validator: Validator): PromptEncoder {
  return {
    encode: async (input, options) => validator.encodePrompt(input, options),
    close: async () => undefined,
  };
}

/** What each worker builds its Validator from (structured-cloned once per worker). */
export interface EncoderInit {
  tokenizer: TokenizerFiles;
  /** Template source, or null when chat requests must fail with chatTemplateError. */
  chatTemplate: string | null;
  chatTemplateError?: string;
  /** Null until the shards are warmed up (`EncoderPool.setLimits`): the threads load meanwhile. */
  limits: ValidationLimits | null;
}

/** A job for a worker: encode a prompt, or parse a large JSON request body (http/offload-json.ts). */
export type EncodeCall =
  | { id: number; kind: 'limits'; limits: ValidationLimits }
  | { id: number; kind: 'encode'; input: PromptInput; options: PromptOptions }
  | { id: number; kind: 'parseJson'; body: Uint8Array }
  | { id: number; kind: 'grammar'; constraint: ConstraintParam };

export type EncodeReply =
  /** `lifted`: large strings of a parsed body, sent as transferred bytes (large-strings.ts). */
  { id: number; ok: true; result: unknown; lifted?: LiftedString[] } | { id: number; ok: false; code: ErrorCode; message: string; param: string | null };

// The thread's entry: compiled JavaScript under dist/, else TypeScript through tsx (worker-bootstrap.ts).
const BOOTSTRAP = workerBootstrap(new URL('./encoder-thread.ts', import.meta.url), import.meta.url);

function toError(reply: Extract<EncodeReply, { ok: false }>): RouterError {
  if (reply.code === 'validation') return new ValidationError(reply.message, reply.param);
  if (reply.code === 'unsupported') return new UnsupportedError(reply.message, reply.param);
  return new RouterError(reply.code, reply.message, reply.param);
}

type Pending = { resolve: (result: unknown) => void; reject: (e: Error) => void };

/** One worker and the calls it has not answered yet. */
class EncoderWorker {
  readonly pending = new Map<number, Pending>();
  readonly worker: Worker;
  /** Resolves once the thread has loaded its tokenizer and template; rejects if it fails first. */
  readonly ready: Promise<void>;
  #failed: Error | null = null;

  constructor(init: EncoderInit, onExit: () => void) {
    this.worker = new Worker(BOOTSTRAP, { eval: true, workerData: init });
    this.worker.unref();
    let markReady: () => void = () => {};
    let markFailed: (err: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (msg: EncodeReply | { ready: true }) => {
      if ('ready' in msg) {
        markReady();
        return;
      }
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      if (msg.ok) {
        if (msg.lifted !== undefined) restoreLargeStrings(msg.result, msg.lifted);
        p.resolve(msg.result);
      } else p.reject(toError(msg));
    });
    const fail = (err: Error) => {
      this.#failed ??= err;
      markFailed(err);
      for (const p of this.pending.values()) p.reject(new RouterError('internal', `prompt encoder thread failed: ${err.message}`));
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      fail(new Error(`exited with code ${code}`));
      onExit();
    });
  }

  get failed(): boolean {
    return this.#failed !== null;
  }
}

/**
 * `size` worker threads, each with its own tokenizer and chat template; a call goes to the worker with
 * the fewest calls outstanding. A worker that dies fails its calls (500) and is replaced.
 */
export class EncoderPool implements PromptEncoder {
  #init: EncoderInit;
  readonly #workers: EncoderWorker[];
  #nextId = 1;
  #closed = false;

  constructor(init: EncoderInit, size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`EncoderPool needs at least one worker, got ${size}`);
    this.#init = init;
    this.#workers = Array.from({ length: size }, (_, i) => this.#spawn(i));
  }

  /** Resolves once every thread is ready (start-up waits for it, so the first requests do not wait for tsx and the tokenizer to load). */
  async ready(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.ready));
  }

  /**
   * The limits prompts are checked against, known once the shards are warmed up: the threads start
   * (module loading, tokenizer) before that, beside the shards' own loading. Encode calls come after this.
   */
  setLimits(limits: ValidationLimits): void {
    this.#init = { ...this.#init, limits };
    for (const w of this.#workers) w.worker.postMessage({ id: 0, kind: 'limits', limits } satisfies EncodeCall);
  }

  #spawn(slot: number): EncoderWorker {
    const w: EncoderWorker = new EncoderWorker(this.#init, () => {
      if (!this.#closed && this.#workers[slot] === w) this.#workers[slot] = this.#spawn(slot);
    });
    return w;
  }

  encode(input: PromptInput, options: PromptOptions): Promise<EncodedPrompt> {
    return this.#call({ id: this.#nextId++, kind: 'encode', input, options }) as Promise<EncodedPrompt>;
  }

  /**
   * Schema → grammar conversion and its checks run in WASM and take milliseconds, seconds for a huge
   * schema: on a worker, so one request's schema never stalls the router's streams.
   */
  compileGrammar(constraint: ConstraintParam): Promise<string> {
    return this.#call({ id: this.#nextId++, kind: 'grammar', constraint }) as Promise<string>;
  }

  /**
   * JSON.parse of a request body; a syntax error rejects as bad_request. The bytes are copied, not
   * transferred: on Node 20 transferring a fresh 1 MiB ArrayBuffer costs the sender ~6 ms, a copy <1 ms.
   */
  parseJson(body: Uint8Array): Promise<unknown> {
    return this.#call({ id: this.#nextId++, kind: 'parseJson', body });
  }

  #call(job: EncodeCall): Promise<unknown> {
    if (this.#closed) return Promise.reject(new RouterError('unavailable', 'the router is shutting down'));
    const worker = this.#workers.filter((w) => !w.failed).reduce<EncoderWorker | null>((a, w) => (a === null || w.pending.size < a.pending.size ? w : a), null);
    if (worker === null) return Promise.reject(new RouterError('internal', 'no prompt encoder thread is running'));
    return new Promise((resolve, reject) => {
      worker.pending.set(job.id, { resolve, reject });
      worker.worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }
}
