// Process-level rehearsal: start the services exactly as docker-compose.yml and the StatefulSet/Deployment
// would (their arguments and environment, the image's ENV, separate processes, TCP), rewritten only to
// loopback addresses, free ports and local paths; then a streamed chat through the router with the openai client.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import OpenAI from 'openai';
import { ensureGeneratedModel } from '@tessera/model-files';
import { grpc } from '@tessera/protocol';
import { HealthClient } from '../../services/shard/src/grpc-health.ts';
import { freePort } from '../helpers/ports.ts';
import { REPO_ROOT, TEST_CACHE } from '../helpers/paths.ts';
import { loadCompose } from './compose-file.ts';
import { renderKustomization } from './kustomize.ts';
import { composeServices, imageEnv, kubernetesServices, type ServiceSpec } from './topology.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'tessera.js');
const STARTUP_MS = 120_000;

/** Maps every (network name, port) the files use to a free loopback port, and container paths to local ones. */
class Loopback {
  // Promises, so services rewritten concurrently agree on a shared endpoint (the master port).
  readonly #ports = new Map<string, Promise<number>>();
  constructor(
    readonly names: string[],
    readonly modelDir: string,
    readonly cacheDir: string,
  ) {}

  port(host: string, port: number): Promise<number> {
    const key = `${host}:${port}`;
    if (!this.#ports.has(key)) this.#ports.set(key, freePort());
    return this.#ports.get(key)!;
  }

  async env(spec: ServiceSpec): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const env = spec.env;
    for (const [k, v] of Object.entries(env)) {
      if (k === 'TESSERA_PORT') out[k] = String(await this.port(spec.name, Number(v)));
      else if (k === 'TESSERA_HOSTNAME' || k === 'TESSERA_MASTER_ADDR') out[k] = '127.0.0.1';
      else if (k === 'TESSERA_MASTER_PORT') out[k] = String(await this.port(env.TESSERA_MASTER_ADDR!, Number(v)));
      else if (k === 'TESSERA_SHARD_URIS') {
        const uris = await Promise.all(
          v.split(',').map(async (uri) => `127.0.0.1:${await this.port(uri.slice(0, uri.lastIndexOf(':')), Number(uri.slice(uri.lastIndexOf(':') + 1)))}`),
        );
        out[k] = uris.join(',');
      } else if (k === 'TESSERA_MODEL_ID') out[k] = v.replace(/^\/models/, this.modelDir);
      else if (k === 'TESSERA_CACHE_DIR') out[k] = this.cacheDir;
      else if (this.names.some((n) => v.includes(n))) throw new Error(`${spec.name}: ${k}=${v} names a peer but is not rewritten`);
      else out[k] = v;
    }
    return out;
  }

  /** `127.0.0.1:P` inside the container → this service's loopback port for P. */
  async healthArgs(spec: ServiceSpec, args: string[]): Promise<string[]> {
    return Promise.all(
      args.map(async (a) => {
        const m = /127\.0\.0\.1:(\d+)/.exec(a);
        return m ? a.replace(m[0], `127.0.0.1:${await this.port(spec.name, Number(m[1]))}`) : a;
      }),
    );
  }
}

interface Started {
  spec: ServiceSpec;
  proc: ChildProcess;
  output: () => string;
  env: Record<string, string>;
}

const running: Started[] = [];
after(async () => {
  await Promise.all(
    running.map(async ({ proc }) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
});

async function start(spec: ServiceSpec, net: Loopback): Promise<Started> {
  const env = await net.env(spec);
  // Only what a container has: the image's ENV, then the service's; nothing from this test process.
  // TESSERA_RUNTIME=dist is the image's compiled build; here the checkout decides (bin/tessera.js).
  const { TESSERA_RUNTIME: _compiled, ...image } = imageEnv();
  const processEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...image, ...env };
  const proc = spawn(process.execPath, [BIN, ...spec.args], { env: processEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const started = { spec, proc, output: () => out, env };
  running.push(started);
  return started;
}

/** What the kubelet's gRPC probe asks: grpc.health.v1.Health/Check, status SERVING; null when unreachable. */
function grpcHealthCheck(address: string, service: string): Promise<string | null> {
  const client = new HealthClient(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Check(req: { service: string }, opts: grpc.CallOptions, cb: (err: Error | null, res?: { status: string }) => void): void;
  };
  return new Promise((resolve) =>
    client.Check({ service }, { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      resolve(err ? null : res!.status);
    }),
  );
}

async function waitHealthy(s: Started, net: Loopback): Promise<void> {
  const deadline = Date.now() + STARTUP_MS;
  const health = s.spec.health;
  const probe =
    'exec' in health
      ? await net.healthArgs(s.spec, health.exec)
      : 'grpcPort' in health
        ? { grpc: `127.0.0.1:${await net.port(s.spec.name, health.grpcPort)}`, service: health.service }
        : `http://127.0.0.1:${await net.port(s.spec.name, health.port)}${health.httpPath}`;
  for (;;) {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) throw new Error(`${s.spec.name} exited:\n${s.output()}`);
    const ok = Array.isArray(probe)
      ? spawnSync(process.execPath, [BIN, ...probe], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 20_000 }).status === 0
      : typeof probe === 'object'
        ? (await grpcHealthCheck(probe.grpc, probe.service)) === 'SERVING'
        : await fetch(probe, { signal: AbortSignal.timeout(5000) }).then(
            (r) => r.status === 200,
            () => false,
          );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${s.spec.name} not healthy after ${STARTUP_MS} ms:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Starts the shards (all at once, like Parallel pods), waits for their health checks, then the router; chats. */
async function rehearse(specs: ServiceSpec[]): Promise<void> {
  const modelDir = await ensureGeneratedModel(TEST_CACHE, 'tiny');
  const net = new Loopback(
    specs.map((s) => s.name),
    modelDir,
    path.join(TEST_CACHE, 'graphs'),
  );
  const shards = await Promise.all(specs.filter((s) => s.role === 'shard').map((s) => start(s, net)));
  await Promise.all(shards.map((s) => waitHealthy(s, net)));
  const [routerSpec] = specs.filter((s) => s.role === 'router');
  const router = await start(routerSpec!, net);
  await waitHealthy(router, net);

  // The processes really are separate and talk TCP: the router was given the shards' loopback ports.
  assert.equal(new Set([...shards, router].map((s) => s.proc.pid)).size, shards.length + 1);
  assert.deepEqual(
    router.env.TESSERA_SHARD_URIS!.split(','),
    shards.map((s) => `127.0.0.1:${s.env.TESSERA_PORT}`),
  );
  shards.forEach((s, rank) => assert.equal(s.env.TESSERA_RANK, String(rank)));

  const client = new OpenAI({ baseURL: `http://127.0.0.1:${router.env.TESSERA_PORT}/v1`, apiKey: 'unused', maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: 'tessera',
    messages: [{ role: 'user', content: 'Once upon a time' }],
    max_tokens: 8,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  let chunks = 0;
  let finish: string | null = null;
  let completionTokens = -1;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.ok(chunks >= 3, `${chunks} chunks`);
  assert.ok(finish === 'length' || finish === 'stop', String(finish));
  if (finish === 'length') assert.equal(completionTokens, 8);
  for (const s of [...shards, router]) assert.equal(s.proc.exitCode, null, `${s.spec.name} still running`);
}

async function stopAll(): Promise<void> {
  for (const s of running.splice(0).reverse()) {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) continue;
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGTERM');
    const timer = setTimeout(() => s.proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

describe('deployment rehearsal on loopback', { timeout: 2 * STARTUP_MS }, () => {
  test('docker-compose.yml: router + every shard service, as compose starts them', async () => {
    const specs = composeServices(loadCompose());
    assert.ok(specs.filter((s) => s.role === 'shard').length >= 2);
    try {
      await rehearse(specs);
    } finally {
      await stopAll();
    }
  });

  test('k8s/: the StatefulSet pods (rank = pod index) and the router Deployment, as the kubelet starts them', async () => {
    const specs = kubernetesServices(renderKustomization(path.join(REPO_ROOT, 'k8s')));
    try {
      await rehearse(specs);
    } finally {
      await stopAll();
    }
  });
});
