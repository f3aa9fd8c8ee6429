// @module Starts the runner worker thread and makes typed calls to its ShardEngine by message id.
import { Worker } from 'node:worker_threads';
import { workerBootstrap } from '@tessera/protocol';
import type { ModelConfig } from '@tessera/model-files';
import type { DecodeRequest, DecodeResponse, DecodeStreamControl, DecodeStreamHandle } from '@tessera/protocol';
import type { GrammarVocabulary } from '@tessera/tokenization';
import type { GroupOptions } from './collective/group.ts';
import { ShardError, ShardErrorCode } from './errors.ts';
import type { EngineOptions, ShardEngine } from './runner/shard-engine.ts';

export type EngineMethod = 'info' | 'warmup' | 'prefill' | 'decode' | 'filterBatch' | 'clearCache';
type EngineApi = Pick<ShardEngine, EngineMethod>;
export type EngineArg<M extends EngineMethod> = Parameters<EngineApi[M]> extends [infer A, ...unknown[]] ? A : undefined;
export type EngineResult<M extends EngineMethod> = Awaited<ReturnType<EngineApi[M]>>;

export interface RunnerThreadInit {
  onnxPath: string;
  config: ModelConfig;
  blockSize: number;
  threads?: number;
  device?: 'cpu' | 'cuda' | 'webgpu';
  deviceId?: number;
  engine: EngineOptions;
  /** Tensor parallelism (world size > 1): the rank's segments and KV heads, and where the group meets. */
  parallel?: ParallelInit;
  /** Rank 0: the vocabulary grammar masks are computed over (constrained decoding); absent elsewhere. */
  grammarVocabulary?: GrammarVocabulary;
}

export interface ParallelInit {
  segmentPaths: string[];
  kvHeads: number;
  group: GroupOptions;
}

export interface RunnerCall {
  id: number;
  method: EngineMethod | 'decodeStream';
  arg: unknown;
}

/** A control for the continuous decode started by call `control`. */
export interface RunnerControl extends DecodeStreamControl {
  control: number;
}

/** Ends the thread at its next turn of the event loop (RunnerClient.close). */
export interface RunnerClose {
  close: true;
}

/** How long close() waits for the thread to leave a step (a large prefill can take seconds) before terminating it. */
const CLOSE_GRACE_MS = 30_000;

export type RunnerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { message: string; code: ShardErrorCode; stack?: string } };

// The thread's entry: compiled JavaScript under dist/, else TypeScript through tsx (worker-bootstrap.ts).
const BOOTSTRAP = workerBootstrap(new URL('./runner/thread.ts', import.meta.url), import.meta.url);

export class RunnerClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Continuous decodes in progress: where each step goes. */
  readonly #streams = new Map<number, (step: DecodeResponse) => void>();
  #nextId = 1;
  #exited: Error | null = null;
  #collectiveFailure: string | null = null;
  #onCollectiveBroken: ((reason: string) => void) | null = null;
  /** Tensor parallel: this rank's links to the others ("rank 1 over unix socket", …); empty at world size 1. */
  collectiveLinks: string[] = [];

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (msg: RunnerReply | { id: number; step: DecodeResponse } | { collectiveBroken: string }) => {
      if ('step' in msg) {
        this.#streams.get(msg.id)?.(msg.step);
        return;
      }
      if ('collectiveBroken' in msg) {
        this.#collectiveFailure = msg.collectiveBroken;
        this.#onCollectiveBroken?.(msg.collectiveBroken);
        return;
      }
      const p = this.#pending.get(msg.id);
      if (p === undefined) return;
      this.#pending.delete(msg.id);
      this.#streams.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new ShardError(msg.error.code, msg.error.message)); // raised in the runner thread, carried across with its code
    });
    const fail = (err: Error) => {
      this.#exited ??= err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      this.#streams.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new ShardError(ShardErrorCode.Internal, `runner thread exited (code ${code})`)));
  }

  /**
   * Spawns the runner thread and waits until its session is loaded. `signal` ends a start still under
   * way (a rank shutting down while it waits for its group to re-form).
   */
  static async start(init: RunnerThreadInit, signal?: AbortSignal): Promise<RunnerClient> {
    signal?.throwIfAborted();
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: init });
    let links: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        settle();
        void worker.terminate();
        reject(new ShardError(ShardErrorCode.Internal, 'runner thread start abandoned: the shard is stopping'));
      };
      const settle = () => {
        worker.off('message', onMessage);
        worker.off('error', reject);
        signal?.removeEventListener('abort', onAbort);
      };
      const onMessage = (msg: { ready?: boolean; error?: string; collectiveLinks?: string[] }) => {
        links = msg.collectiveLinks ?? [];
        if (msg.ready === undefined) return;
        settle();
        if (msg.ready) resolve();
        else {
          void worker.terminate();
          reject(new ShardError(ShardErrorCode.Internal, `runner thread failed to start: ${msg.error}`));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const client = new RunnerClient(worker);
    client.collectiveLinks = links;
    return client;
  }

  /** True while the runner thread is running. */
  get alive(): boolean {
    return this.#exited === null;
  }

  /** Tensor parallel: why the link to the other shards broke (the shard must be restarted), else null. */
  get collectiveFailure(): string | null {
    return this.#collectiveFailure;
  }

  /** Tensor parallel: called once the group breaks (runner-slot.ts then re-forms it). */
  onCollectiveBroken(listener: (reason: string) => void): void {
    this.#onCollectiveBroken = listener;
    if (this.#collectiveFailure !== null) listener(this.#collectiveFailure);
  }

  call<M extends EngineMethod>(method: M, arg: EngineArg<M>): Promise<EngineResult<M>> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, method, arg } satisfies RunnerCall);
    });
  }

  /** Continuous decode on the runner thread: `onStep` gets each step; controls reach the loop between steps. */
  decodeStream(req: DecodeRequest, onStep: (step: DecodeResponse) => void): DecodeStreamHandle {
    if (this.#exited) return { control: () => undefined, done: Promise.reject(this.#exited) };
    const id = this.#nextId++;
    const done = new Promise<void>((resolve, reject) => this.#pending.set(id, { resolve: () => resolve(), reject }));
    this.#streams.set(id, onStep);
    this.#worker.postMessage({ id, method: 'decodeStream', arg: req } satisfies RunnerCall);
    return {
      done,
      control: (c) => {
        if (this.#streams.has(id)) this.#worker.postMessage({ control: id, ...c } satisfies RunnerControl);
      },
    };
  }

  /**
   * Asks the thread to exit between two steps (its message handler only runs outside onnxruntime's
   * calls), and terminates it only if it has not within `graceMs`: a thread terminated inside a
   * native call can take the whole process down with it (an uncaught Napi::Error, SIGABRT).
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.#exited ??= new ShardError(ShardErrorCode.Internal, 'runner closed');
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    if (this.#worker.threadId === -1) return; // already gone
    this.#worker.postMessage({ close: true } satisfies RunnerClose);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    if ((await Promise.race([exited, late])) === 'late') await this.#worker.terminate();
    clearTimeout(timer);
  }
}
