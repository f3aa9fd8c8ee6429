// @module --device end to end: a provider that cannot load stops the start with a clear error; WebGPU serves stories260K.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeGeneratedModel } from '@tessera/model-files';
import { ensureStepGraph } from '../services/shard/src/graph/graph-cache.ts';
import { missingForDevice } from '../services/shard/src/runner/execution-provider.ts';
import { probeOps } from '../services/shard/src/runner/op-probe.ts';
import { startCluster, startClusters } from './helpers/cluster.ts';
import { REPO_ROOT, sharedPath } from './helpers/paths.ts';
import { generateGreedy, getStats } from './helpers/streams.ts';
import { postJson } from './helpers/sse.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-device-e2e-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `tessera launch` that is expected to fail: exit code and everything it printed. */
function launchFailing(flags: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'bin', 'tessera.js'), 'launch', '--port', '0', '--cache-dir', path.join(tmp, 'graphs'), ...flags],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) => child.once('exit', (code) => (clearTimeout(killer), resolve({ code, out, ms: Date.now() - started }))));
}

async function webgpuUnavailable(): Promise<string | null> {
  const [probe] = await probeOps('webgpu', 0, ['float32']);
  return probe?.supported ? null : `WebGPU: no adapter here (${probe?.error ?? 'unknown'})`;
}

describe('a provider that cannot load fails the start, saying what is missing', () => {
  test('--device cuda without the CUDA provider libraries: exit ≠ 0 within seconds, the library names in the error', async (t) => {
    if (missingForDevice('cuda') === null) return t.skip('the CUDA provider libraries are installed here');
    const model = path.join(tmp, 'tiny');
    await writeGeneratedModel(model, { preset: 'tiny' });
    const r = await launchFailing(['--model-id', model, '--device', 'cuda']);
    assert.notEqual(r.code, 0);
    // Without `npm run gpu:cuda` the provider files are named; after it, on a host without CUDA, the CUDA libraries.
    assert.match(
      r.out,
      /execution provider \\?"cuda\\?" could not be used: (the CUDA provider libraries .*libonnxruntime_providers_cuda\.so|libraries the CUDA provider needs are not on the library path: .*libcuda\.so\.1)/,
    );
    assert.ok(r.ms < 60_000, `failed after ${r.ms} ms`);
  });

  test('--device webgpu with no Vulkan driver: exit ≠ 0, the error says WebGPU found no adapter and what to install', async () => {
    const model = path.join(tmp, 'tiny');
    if (!fs.existsSync(model)) await writeGeneratedModel(model, { preset: 'tiny' });
    // An ICD list naming no driver hides every Vulkan device from the loader.
    const r = await launchFailing(['--model-id', model, '--device', 'webgpu'], {
      VK_ICD_FILENAMES: path.join(tmp, 'no-such-icd.json'),
      VK_DRIVER_FILES: path.join(tmp, 'no-such-icd.json'),
    });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /execution provider \\?"webgpu\\?" could not be used: .*adapter.*Vulkan loader/);
  });
});

describe('tessera check-device', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'tessera.js'), 'check-device', ...args], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });

  test('cpu: every probed fused operator runs, exit 0; the JSON report says the same', () => {
    const r = run(['--device', 'cpu', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { problem: string | null; ops: { op: string; dtype: string; supported: boolean; error?: string }[] };
    assert.equal(report.problem, null);
    assert.equal(report.ops.length, 8);
    for (const o of report.ops) assert.ok(o.supported, `${o.op} ${o.dtype}: ${o.error}`);
  });

  test('cuda without its libraries: exit 1 and the missing files named; --device defaults to $TESSERA_DEVICE', (t) => {
    if (missingForDevice('cuda') === null) return t.skip('the CUDA provider libraries are installed here');
    const r = run([], { TESSERA_DEVICE: 'cuda' });
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /cuda: cannot run: (the CUDA provider libraries .*libonnxruntime_providers_cuda\.so|libraries the CUDA provider needs are not on the library path: .*libcuda\.so\.1)/,
    );
    assert.equal(run(['--device', 'tpu']).status, 2);
  });
});

describe('the device KV layout under the scheduler (on the CPU, where every machine can run it)', () => {
  test('--kv-layout device serves what host KV serves: concurrent shared-prefix streams (prefix cache), chunked prefill, prompt logprobs', async () => {
    const common = ['--max-batch-prefill-tokens', '64', '--max-total-tokens', '1024', '--max-input-tokens', '900', '--kv-cache-memory', '64MiB'];
    const [host, device] = await startClusters(common, [...common, '--kv-layout', 'device']);
    try {
      const prefix = Array.from({ length: 60 }, (_, k) => ['amber', 'river', 'stone', 'lantern'][k % 4]).join(' ');
      const prompts = Array.from({ length: 6 }, (_, i) => `${prefix} story ${i}:`);
      const run = (url: string) => Promise.all(prompts.map((p) => generateGreedy(url, p, 12).then((r) => r.ids)));
      for (let round = 0; round < 2; round++) assert.deepEqual(await run(device.url), await run(host.url), `round ${round}: greedy ids`);
      const stats = await getStats(device.url);
      assert.ok(stats.prefix_cache_hits > 0, `the second round reused cached prefixes on the device pools: ${JSON.stringify(stats)}`);
      const details = async (url: string) => {
        const res = await postJson(`${url}/generate`, {
          inputs: `${prefix} and then`,
          parameters: { max_new_tokens: 4, details: true, decoder_input_details: true },
        });
        assert.equal(res.status, 200);
        return ((await res.json()) as { details: { prefill: { id: number; logprob: number | null }[] } }).details.prefill;
      };
      const [a, b] = [await details(host.url), await details(device.url)];
      assert.deepEqual(
        b.map((t) => t.id),
        a.map((t) => t.id),
      );
      a.forEach((t, i) =>
        assert.ok(
          t.logprob === null ? b[i]!.logprob === null : Math.abs(t.logprob - b[i]!.logprob!) < 1e-4,
          `prompt token ${i}: ${t.logprob} vs ${b[i]!.logprob}`,
        ),
      );
    } finally {
      await Promise.all([host.stop(), device.stop()]);
    }
  });
});

describe('WebGPU serving (a GPU, or Mesa lavapipe on the CPU)', () => {
  test('stories260K on --device webgpu (float16, KV on the device): /generate gives the fixture ids; /info says so', async (t) => {
    const stories = sharedPath('models', 'stories260K', 'hf');
    const fixturePath = sharedPath('fixtures', 'stories260K-greedy.json');
    if (stories === null || fixturePath === null) return t.skip('stories260K: ../shared not present');
    const why = await webgpuUnavailable();
    if (why !== null) return t.skip(why);
    const fixture = JSON.parse(fs.readFileSync(fixturePath, 'utf8')) as { prompt: string; greedy_ids: number[] };
    // A small warmup prefill keeps start-up short on a software Vulkan driver.
    const cluster = await startCluster(
      [
        '--model-id',
        stories,
        '--device',
        'webgpu',
        '--max-batch-prefill-tokens',
        '512',
        '--max-input-tokens',
        '256',
        '--max-total-tokens',
        '512',
        '--kv-cache-memory',
        '64MiB',
      ],
      300_000,
    );
    try {
      const info = (await (await fetch(`${cluster.url}/info`)).json()) as { model_dtype: string; model_device_type: string };
      assert.deepEqual([info.model_dtype, info.model_device_type], ['float16', 'webgpu']);
      const { ids } = await generateGreedy(cluster.url, fixture.prompt, 32);
      assert.deepEqual(ids, fixture.greedy_ids);
    } finally {
      await cluster.stop();
    }
  });

  test("on WebGPU only shape and index arithmetic runs on the CPU provider (onnxruntime's verbose node placement)", async (t) => {
    const why = await webgpuUnavailable();
    if (why !== null) return t.skip(why);
    const { randomLlamaModel } = await import('@tessera/testing');
    const graph = ensureStepGraph(randomLlamaModel({ numHeads: 4, numKvHeads: 2 }), {
      cacheDir: path.join(tmp, 'graphs'),
      rank: 0,
      worldSize: 1,
      graph: { dtype: 'float16', kvLayout: 'device' },
    });
    const script = `const ort = require('onnxruntime-node'); ort.InferenceSession.create(${JSON.stringify(graph.onnxPath)}, { executionProviders: [{ name: 'webgpu' }], logSeverityLevel: 0, logVerbosityLevel: 0 }).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const log = r.stdout + r.stderr;
    const placed = (provider: string): string[] => {
      const at = log.indexOf(`Node(s) placed on [${provider}]`);
      if (at < 0) return [];
      const lines = log.slice(at).split('\n').slice(1);
      const ops: string[] = [];
      for (const line of lines) {
        const m = /VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \(/.exec(line);
        if (!m) break;
        ops.push(m[1]!);
      }
      return ops;
    };
    const gpu = placed('WebGpuExecutionProvider');
    const cpu = placed('CPUExecutionProvider');
    assert.ok(gpu.length > 50, `nodes on WebGPU: ${gpu.length}`);
    for (const op of ['MatMul', 'Softmax', 'ScatterND', 'Gather']) assert.ok(gpu.includes(op), `${op} runs on WebGPU`);
    // onnxruntime keeps shape arithmetic and the small int64 index arithmetic over block_table (the
    // slot table, computed once per step) on the CPU; every per-layer node must run on the GPU.
    const indexOps = new Set(['Shape', 'Concat', 'Unsqueeze', 'Mul', 'Add', 'Reshape']);
    assert.deepEqual(
      [...new Set(cpu)].filter((op) => !indexOps.has(op)),
      [],
      `on the CPU provider: ${cpu.join(', ')}`,
    );
    assert.ok(cpu.length < 20, `on the CPU provider, a fixed handful of nodes: ${cpu.join(', ')}`);
  });

  test("quantized weights on WebGPU: MatMulNBits (4-bit with offsets, 8-bit) and the quantized gather give the CPU's top tokens (float16)", async (t) => {
    const why = await webgpuUnavailable();
    if (why !== null) return t.skip(why);
    const { randomQuantizedModel } = await import('@tessera/testing');
    const { ModelRunner } = await import('../services/shard/src/runner/model-runner.ts');
    const { ShardEngine } = await import('../services/shard/src/runner/shard-engine.ts');
    const layout = (name: string) =>
      /(v_proj|down_proj)\.weight$/.test(name)
        ? { bits: 8 as const, blockSize: 16, offsets: false }
        : /(proj|embed_tokens|lm_head)\.weight$/.test(name)
          ? { bits: 4 as const, blockSize: 32, offsets: true }
          : null;
    const model = randomQuantizedModel({}, 7, layout);
    const greedy = {
      temperature: 0,
      topK: 0,
      topP: 0,
      typicalP: 0,
      doSample: false,
      seed: 0,
      repetitionPenalty: 0,
      frequencyPenalty: 0,
      presencePenalty: 0,
      minP: 0,
      logitBias: {},
    };
    const firstTop = async (device: 'cpu' | 'webgpu') => {
      const { onnxPath } = ensureStepGraph(model, {
        cacheDir: path.join(tmp, 'graphs'),
        rank: 0,
        worldSize: 1,
        graph: { dtype: device === 'cpu' ? 'float32' : 'float16', kvLayout: device === 'cpu' ? 'host' : 'device', quantAccuracy: 'float32' },
      });
      const runner = await ModelRunner.create(onnxPath, model.config, { blockSize: 8, threads: 1, device });
      try {
        const engine = new ShardEngine(runner, { modelId: 'q', rank: 0, worldSize: 1, kvCacheMemory: 1 << 20 });
        await engine.warmup({ maxBatchPrefillTokens: 64, maxTotalTokens: 64, maxBatchSize: 2 });
        const request = {
          id: 1,
          inputIds: [1, 17, 42, 99, 5, 150],
          blocks: [0, 1],
          cacheLen: 0,
          chunkLen: 0,
          prefillLogprobs: false,
          topNTokens: 5,
          parameters: greedy,
          stoppingParameters: { maxNewTokens: 1, stopTokenIds: [], minNewTokens: 0 },
        };
        const pre = await engine.prefill({ batch: { id: 1, size: 1, maxTokens: 0, requests: [request] } });
        return pre.generations[0]!.topTokens[0]!;
      } finally {
        await runner.release();
      }
    };
    const [cpu, gpu] = [await firstTop('cpu'), await firstTop('webgpu')];
    assert.deepEqual(gpu.ids.slice(0, 2), cpu.ids.slice(0, 2));
    gpu.ids.forEach((id, k) => {
      const j = cpu.ids.indexOf(id);
      if (j >= 0) assert.ok(Math.abs(gpu.logprobs[k]! - cpu.logprobs[j]!) < 0.03, `token ${id}: WebGPU ${gpu.logprobs[k]} vs CPU ${cpu.logprobs[j]}`);
    });
  });
});
