// @module grpc.health.v1.Health on the shard (Check and Watch), so Kubernetes' native gRPC probes and grpc_health_probe work.
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { grpc } from '@tessera/protocol';

const HEALTH_PROTO = fileURLToPath(new URL('../../../proto/grpc/health/v1/health.proto', import.meta.url));
const definition = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO, { enums: String, defaults: true })) as unknown as {
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};
/** The client constructor (tests and probes); `.service` is the definition the server adds. */
export const HealthClient = definition.grpc.health.v1.Health;

export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** Service names a probe may ask about: '' (the whole server) and the shard's own service. */
export const HEALTH_SERVICES: ReadonlySet<string> = new Set(['', 'tessera.v1.TextGenerationService']);

/** How often a Watch re-checks the runner and sends the status when it changed. */
const WATCH_INTERVAL_MS = 1000;

export interface HealthService {
  /** Reports NOT_SERVING from now on and ends every Watch (so a graceful shutdown is not held open by them). */
  shutdown(): void;
}

/**
 * Adds Health to `server`. The server binds only after the model is loaded, so the status is SERVING
 * from then on while `healthy()` resolves (the runner thread is alive, the tensor-parallel group
 * intact), NOT_SERVING when it rejects or after shutdown().
 */
export function addHealthService(server: grpc.Server, healthy: () => Promise<unknown>): HealthService {
  let stopped = false;
  const watches = new Set<grpc.ServerWritableStream<{ service: string }, { status: ServingStatus }>>();
  const status = async (): Promise<ServingStatus> => {
    if (stopped) return 'NOT_SERVING';
    return healthy().then(
      () => 'SERVING' as const,
      () => 'NOT_SERVING' as const,
    );
  };
  server.addService(HealthClient.service, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<{ status: ServingStatus }>) => {
      if (!HEALTH_SERVICES.has(call.request.service)) {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        return;
      }
      void status().then((s) => callback(null, { status: s }));
    },
    Watch: (call: grpc.ServerWritableStream<{ service: string }, { status: ServingStatus }>) => {
      if (!HEALTH_SERVICES.has(call.request.service)) {
        call.write({ status: 'SERVICE_UNKNOWN' });
        return; // the stream stays open, as the protocol asks: the service may appear later
      }
      let last: ServingStatus | null = null;
      const send = async () => {
        const s = await status();
        if (s !== last && !call.cancelled) call.write({ status: (last = s) });
      };
      const timer = setInterval(() => void send(), WATCH_INTERVAL_MS);
      const end = () => {
        clearInterval(timer);
        watches.delete(call);
      };
      call.on('cancelled', end);
      call.on('close', end);
      watches.add(call);
      void send();
    },
  });
  return {
    shutdown() {
      stopped = true;
      for (const call of watches) {
        call.write({ status: 'NOT_SERVING' });
        call.end();
      }
      watches.clear();
    },
  };
}
