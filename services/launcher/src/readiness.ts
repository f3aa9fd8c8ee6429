// @module Waiting for services to come up: shard gRPC Health and router GET /health.
import net from 'node:net';
import { CHANNEL_OPTIONS, grpc, TextGenerationService } from '@tessera/protocol';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port that was free a moment ago on `host`. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls until `probe` resolves true, `abort` settles, or the deadline passes. */
async function pollUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, abort: Promise<unknown>): Promise<void> {
  let aborted = false;
  const stop = () => (aborted = true);
  void abort.then(stop, stop);
  const deadline = Date.now() + timeoutMs;
  while (!aborted) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(50);
  }
  throw new Error(`${what}: startup aborted`);
}

export function waitForShard(address: string, timeoutMs: number, abort: Promise<unknown>): Promise<void> {
  const client = new TextGenerationService(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as {
    Health(req: object, opts: grpc.CallOptions, cb: (err: Error | null) => void): void;
    close(): void;
  };
  const probe = () => new Promise<boolean>((resolve) => client.Health({}, { deadline: Date.now() + 2000 }, (err) => resolve(!err)));
  return pollUntil(`shard ${address}`, probe, timeoutMs, abort).finally(() => client.close());
}

export function waitForRouter(url: string, timeoutMs: number, abort: Promise<unknown>): Promise<void> {
  const probe = async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status === 200;
  return pollUntil(`router ${url}`, probe, timeoutMs, abort);
}
