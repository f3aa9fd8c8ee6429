// @module The shard's gRPC face: ShardHandlers over the runner thread (decode → call → encode), and binding.
import {
  CHANNEL_OPTIONS,
  grpc,
  serviceDefinition,
  toServiceImplementation,
  OpenCalls,
  type DecodeRequest,
  type DecodeResponse,
  type DecodeStreamHandle,
  type ShardHandlers,
} from '@tessera/protocol';
import { RunnerUnavailableError } from './errors.ts';
import type { EngineArg, EngineMethod, EngineResult } from './runner-client.ts';
import { addHealthService } from './grpc-health.ts';

/** The runner the handlers call (runner-slot.ts): its thread, health and process instance. */
export interface ShardRunner {
  readonly instanceId: string;
  readonly alive: boolean;
  readonly collectiveFailure: string | null;
  call<M extends EngineMethod>(method: M, arg: EngineArg<M>): Promise<EngineResult<M>>;
  decodeStream(req: DecodeRequest, onStep: (step: DecodeResponse) => void): DecodeStreamHandle;
}

/**
 * Health reports the runner's instance id (new per process, and per re-formed tensor-parallel group)
 * and whether Warmup ran on it: the router tells a restarted shard, whose KV cache and batches are
 * gone, from one that only dropped its connection.
 */
export function createShardHandlers(client: ShardRunner): ShardHandlers {
  let warmedInstance: string | null = null;
  return {
    info: async () => ({ ...(await client.call('info', undefined)), instanceId: client.instanceId }),
    // Answered here, not on the runner thread, which may be busy in a long prefill.
    health: async () => {
      if (!client.alive) throw new RunnerUnavailableError('model runner thread is not running');
      const failure = client.collectiveFailure;
      if (failure !== null) throw new RunnerUnavailableError(`tensor-parallel group is broken: ${failure}`);
      return { instanceId: client.instanceId, warmedUp: warmedInstance === client.instanceId };
    },
    warmup: async (req) => {
      const instance = client.instanceId;
      const res = await client.call('warmup', req);
      warmedInstance = instance;
      return res;
    },
    prefill: (req) => client.call('prefill', req),
    decode: (req) => client.call('decode', req),
    decodeStream: (req, onStep) => client.decodeStream(req, onStep),
    filterBatch: (req) => client.call('filterBatch', req),
    clearCache: (req) => client.call('clearCache', req),
  };
}

export interface BoundServer {
  server: grpc.Server;
  /** The port actually bound (useful with port 0). */
  port: number;
  /** Graceful stop (in-flight calls finish), forced after `graceMs`. */
  shutdown(graceMs?: number): Promise<void>;
}

export async function startShardServer(handlers: ShardHandlers, hostname: string, port: number): Promise<BoundServer> {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  const openCalls = new OpenCalls();
  server.addService(serviceDefinition, toServiceImplementation(handlers, openCalls));
  const health = addHealthService(server, () => handlers.health());
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    server,
    port: bound,
    shutdown: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        health.shutdown();
        // The routers' Calls streams stay open between calls: end them (after their calls in flight).
        openCalls.drain();
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
