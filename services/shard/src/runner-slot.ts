// @module The shard's current runner thread and process instance; a tensor-parallel rank whose group broke re-forms it with a fresh runner.
import { randomUUID } from 'node:crypto';
import type { DecodeRequest, DecodeResponse, DecodeStreamHandle } from '@tessera/protocol';
import type { Logger } from 'pino';
import { RunnerUnavailableError } from './errors.ts';
import { RunnerClient, type EngineArg, type EngineMethod, type EngineResult, type RunnerThreadInit } from './runner-client.ts';

/** Pause between attempts to re-form a broken tensor-parallel group. */
const REJOIN_RETRY_MS = 1_000;

/**
 * What the gRPC handlers call. At world size 1 it is one runner for the process's life. In a
 * tensor-parallel group, a peer that dies breaks the collective on every rank; instead of staying
 * broken until restarted, each surviving rank closes its runner thread (sockets, shared memory and
 * KV with it) and starts a new one, which rendezvouses again with the restarted peer. Each runner has
 * its own instance id, so the router sees a new instance, re-runs Warmup on every rank and serves again.
 */
export class RunnerSlot {
  readonly #init: RunnerThreadInit;
  readonly #logger: Logger | undefined;
  #client: RunnerClient;
  #instanceId = randomUUID();
  /** Why the runner cannot serve while a new group forms, else null. */
  #rejoining: string | null = null;
  #closed = false;
  /** Ends a re-forming runner's start (it may wait for its peers for the whole rendezvous timeout) on close. */
  readonly #closing = new AbortController();

  private constructor(client: RunnerClient, init: RunnerThreadInit, logger: Logger | undefined) {
    this.#client = client;
    this.#init = init;
    this.#logger = logger;
    this.#watch(client);
  }

  static async start(init: RunnerThreadInit, logger?: Logger): Promise<RunnerSlot> {
    return new RunnerSlot(await RunnerClient.start(init), init, logger);
  }

  /** Changes whenever the runner (and so the KV cache and batches) is replaced. */
  get instanceId(): string {
    return this.#instanceId;
  }

  get alive(): boolean {
    return this.#rejoining !== null || this.#client.alive;
  }

  /** Why the tensor-parallel group cannot run now (broken, or re-forming), else null. */
  get collectiveFailure(): string | null {
    return this.#rejoining ?? this.#client.collectiveFailure;
  }

  get collectiveLinks(): string[] {
    return this.#client.collectiveLinks;
  }

  call<M extends EngineMethod>(method: M, arg: EngineArg<M>): Promise<EngineResult<M>> {
    if (this.#rejoining !== null) return Promise.reject(new RunnerUnavailableError(this.#rejoining));
    return this.#client.call(method, arg);
  }

  decodeStream(req: DecodeRequest, onStep: (step: DecodeResponse) => void): DecodeStreamHandle {
    if (this.#rejoining !== null) return { control: () => undefined, done: Promise.reject(new RunnerUnavailableError(this.#rejoining)) };
    return this.#client.decodeStream(req, onStep);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    await this.#client.close();
  }

  #watch(client: RunnerClient): void {
    if (this.#init.parallel === undefined) return;
    client.onCollectiveBroken((reason) => {
      if (client !== this.#client || this.#closed || this.#rejoining !== null) return;
      void this.#rejoin(reason);
    });
  }

  async #rejoin(reason: string): Promise<void> {
    const group = this.#init.parallel!.group;
    this.#rejoining = `tensor-parallel group is broken (${reason}); re-forming it (rank 0 at ${group.masterAddr}:${group.masterPort})`;
    this.#logger?.warn({ reason }, 'tensor-parallel group broken: replacing the runner thread and joining a new group');
    await this.#client.close().catch(() => undefined);
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        const client = await RunnerClient.start(this.#init, this.#closing.signal);
        if (this.#closed) {
          await client.close();
          return;
        }
        this.#client = client;
        this.#instanceId = randomUUID();
        this.#rejoining = null;
        this.#watch(client);
        this.#logger?.info({ attempt, links: client.collectiveLinks }, 'tensor-parallel group re-formed: new instance, waiting for Warmup');
        return;
      } catch (err) {
        if (this.#closed) return;
        this.#logger?.warn({ attempt, err: (err as Error).message }, 'could not re-form the tensor-parallel group yet');
        await new Promise((r) => setTimeout(r, REJOIN_RETRY_MS));
      }
    }
  }
}
