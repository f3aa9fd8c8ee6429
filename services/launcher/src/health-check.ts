// @module `tessera health`: one health probe (shard gRPC Health or router GET /health) for container health checks.
import { formatHelp, parseCommand, UsageError, type CommandSpec } from '@tessera/options';

export const HEALTH_COMMAND: CommandSpec = {
  name: 'health',
  synopsis: '[--grpc HOST:PORT] [--http URL] [--timeout SECONDS]',
  summary:
    'Exits 0 when the service answers healthy, 1 otherwise (for HEALTHCHECK and exec probes). With neither\n' +
    "target, checks this container's own service: http://127.0.0.1:$TESSERA_PORT/health (default port 8080)\n" +
    'and gRPC 127.0.0.1:$TESSERA_PORT (default 50051); healthy if either answers.',
  options: {
    grpc: { type: 'string', value: 'HOST:PORT', help: 'a shard: its gRPC Health call must succeed', env: false },
    http: { type: 'string', value: 'URL', help: 'a router: GET URL must answer 200 (the full URL, e.g. http://127.0.0.1:8080/health)', env: false },
    timeout: { type: 'string', value: 'SECONDS', default: '3', help: 'per check', env: false },
  },
};

/** True when the shard at `address` answers its gRPC Health call within `timeoutMs`. */
export async function shardHealthy(address: string, timeoutMs: number): Promise<boolean> {
  // Loaded only for a gRPC probe: an HTTP probe (every few seconds in a container) skips gRPC and protobuf.
  const { CHANNEL_OPTIONS, grpc, TextGenerationService } = await import('@tessera/protocol');
  const client = new TextGenerationService(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as {
    Health(req: object, opts: { deadline: number }, cb: (err: Error | null) => void): void;
    close(): void;
  };
  return new Promise<boolean>((resolve) =>
    client.Health({}, { deadline: Date.now() + timeoutMs }, (err) => {
      client.close();
      resolve(!err);
    }),
  );
}

/** True when GET `url` answers 200 within `timeoutMs`. */
export async function httpHealthy(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The probes `tessera health` runs for the given flags (and TESSERA_PORT when no target is given). */
export function healthTargets(values: Map<string, string>, env: NodeJS.ProcessEnv = process.env): { grpc: string[]; http: string[] } {
  const grpcTargets = values.has('grpc') ? [values.get('grpc')!] : [];
  const httpTargets = values.has('http') ? [values.get('http')!] : [];
  if (grpcTargets.length === 0 && httpTargets.length === 0) {
    const port = env.TESSERA_PORT?.trim();
    httpTargets.push(`http://127.0.0.1:${port || 8080}/health`);
    grpcTargets.push(`127.0.0.1:${port || 50051}`);
  }
  return { grpc: grpcTargets, http: httpTargets };
}

export async function healthCommand(argv: string[]): Promise<number> {
  let values: Map<string, string>;
  let timeoutMs: number;
  try {
    const parsed = parseCommand(HEALTH_COMMAND, argv);
    if (parsed.help) {
      console.log(formatHelp(HEALTH_COMMAND));
      return 0;
    }
    values = parsed.values;
    timeoutMs = Number(values.get('timeout') ?? 3) * 1000;
    if (!Number.isInteger(timeoutMs / 1000) || timeoutMs < 1000) throw new UsageError(`--timeout must be an integer ≥ 1, got "${values.get('timeout')}"`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tessera health: ${err.message}`);
    return 2;
  }
  const targets = healthTargets(values);
  const explicit = values.has('grpc') || values.has('http');
  const results = await Promise.all([
    ...targets.grpc.map(async (a) => ({ what: `grpc ${a}`, ok: await shardHealthy(a, timeoutMs) })),
    ...targets.http.map(async (u) => ({ what: `http ${u}`, ok: await httpHealthy(u, timeoutMs) })),
  ]);
  // Explicit targets must all pass; the automatic pair passes when either service answers.
  const healthy = explicit ? results.every((r) => r.ok) : results.some((r) => r.ok);
  for (const r of results) if (!r.ok && explicit) console.error(`tessera health: ${r.what} is not healthy`);
  if (!healthy && !explicit) console.error(`tessera health: nothing healthy at ${results.map((r) => r.what).join(' or ')}`);
  return healthy ? 0 : 1;
}
