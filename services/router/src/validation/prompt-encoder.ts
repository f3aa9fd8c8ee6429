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
type QueuedCall = { call: EncodeCall; pending: Pending };

/** One worker thread and the one call it is working on (the pool gives each thread one call at a time). */
class EncoderWorker {
  readonly worker: Worker;
  /** Resolves once the thread has loaded its tokenizer and template; rejects if it fails first. */
  readonly ready: Promise<void>;
  #isReady = false;
  #inFlight: QueuedCall | null = null;
  #failed: Error | null = null;

  /** `onIdle`: the thread became ready, answered its call or failed, so the pool may hand out the next. */
  constructor(init: EncoderInit, onExit: () => void, onIdle: () => void) {
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
        this.#isReady = true;
        markReady();
        onIdle();
        return;
      }
      const job = this.#inFlight;
      if (job === null || job.call.id !== msg.id) return;
      this.#inFlight = null;
      if (msg.ok) {
        if (msg.lifted !== undefined) restoreLargeStrings(msg.result, msg.lifted);
        job.pending.resolve(msg.result);
      } else job.pending.reject(toError(msg));
      onIdle();
    });
    const fail = (err: Error) => {
      this.#failed ??= err;
      markFailed(err);
      this.#inFlight?.pending.reject(new RouterError('internal', `prompt encoder thread failed: ${err.message}`));
      this.#inFlight = null;
      onIdle();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      fail(new Error(`exited with code ${code}`));
      onExit();
    });
  }

  /** Ready and not working on a call. */
  get free(): boolean {
    return this.#isReady && this.#failed === null && this.#inFlight === null;
  }

  /** Still loading its tokenizer and template. */
  get starting(): boolean {
    return !this.#isReady && this.#failed === null;
  }

  get failed(): boolean {
    return this.#failed !== null;
  }

  /** Hands this free thread a call. */
  run(job: QueuedCall): void {
    this.#inFlight = job;
    this.worker.postMessage(job.call);
  }
}

/**
 * Up to `size` worker threads, each with its own tokenizer and chat template. Calls wait in one queue
 * and each goes to the first thread that is free, so a short prompt never waits behind a long one
 * while another thread could take it. One thread starts with the pool; another starts only when a
 * call finds every thread busy: an idle router does not pay for threads it does not use (each costs
 * ~0.3 CPU-seconds to start and a tokenizer's memory). A worker that dies fails its call (500) and is
 * replaced.
 */
export class EncoderPool implements PromptEncoder {
  #init: EncoderInit;
  readonly #size: number;
  readonly #workers: EncoderWorker[] = [];
  readonly #queue: QueuedCall[] = [];
  #nextId = 1;
  #closed = false;

  constructor(init: EncoderInit, size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`EncoderPool needs at least one worker, got ${size}`);
    this.#init = init;
    this.#size = size;
    this.#workers.push(this.#spawn(0));
  }

  /** Resolves once the started threads are ready (start-up waits for it, so the first requests do not wait for the tokenizer to load). */
  async ready(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.ready));
  }

  /** Threads started so far (at most `size`). */
  get threads(): number {
    return this.#workers.length;
  }

  /**
   * The limits prompts are checked against, known once the shards are warmed up: the first thread
   * starts (module loading, tokenizer) before that, beside the shards' own loading; later ones start
   * with them. Encode calls come after this.
   */
  setLimits(limits: ValidationLimits): void {
    this.#init = { ...this.#init, limits };
    for (const w of this.#workers) w.worker.postMessage({ id: 0, kind: 'limits', limits } satisfies EncodeCall);
  }

  #spawn(slot: number): EncoderWorker {
    const w: EncoderWorker = new EncoderWorker(
      this.#init,
      () => {
        if (!this.#closed && this.#workers[slot] === w) this.#workers[slot] = this.#spawn(slot);
      },
      () => this.#dispatch(),
    );
    return w;
  }

  /** Hands queued calls to free threads; starts another thread when every one is busy and none is starting. */
  #dispatch(): void {
    while (this.#queue.length > 0) {
      const free = this.#workers.find((w) => w.free);
      if (free === undefined) {
        if (!this.#workers.some((w) => w.starting) && this.#workers.length < this.#size) this.#workers.push(this.#spawn(this.#workers.length));
        else if (this.#workers.every((w) => w.failed)) {
          // Each dead thread is replaced on exit; the calls waiting now fail (500) as its own did.
          for (const job of this.#queue.splice(0)) job.pending.reject(new RouterError('internal', 'no prompt encoder thread is running'));
        }
        return;
      }
      free.run(this.#queue.shift() as QueuedCall);
    }
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

  #call(call: EncodeCall): Promise<unknown> {
    if (this.#closed) return Promise.reject(new RouterError('unavailable', 'the router is shutting down'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ call, pending: { resolve, reject } });
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.pending.reject(new RouterError('unavailable', 'the router is shutting down'));
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }
}
