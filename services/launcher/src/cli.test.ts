// The `tessera` command line as a user meets it: --help/--version everywhere, one-line usage errors (exit 2)
// with a hint, the model and the ports checked before any model loads, environment configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseShardArgs } from '@tessera/shard/config';
import { parseRouterArgs } from '@tessera/router/config';
import { TESSERA_VERSION } from '@tessera/options';
import { TESSERA_BIN } from './supervisor.ts';

function tessera(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [TESSERA_BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A usage error: exit 2, exactly one line on stderr, no stack trace. */
function assertUsageError(r: ReturnType<typeof tessera>, re: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, re);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test('--version prints the package version, for the top level and for every command', () => {
  for (const args of [['--version'], ['router', '--version'], ['launch', '--version'], ['shard', '--version'], ['serve', '--version']]) {
    const r = tessera(args);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `tessera ${TESSERA_VERSION}`);
  }
});

test('--help and -h print the help of each command and exit 0, without starting anything', () => {
  const cases: [string[], RegExp][] = [
    [['--help'], /usage: tessera <command>/],
    [['-h'], /usage: tessera <command>/],
    [['launch', '-h'], /usage: tessera launch \[MODEL\][\s\S]*--kv-cache-memory[\s\S]*--max-total-tokens, --max-model-len/],
    [['router', '--help'], /usage: tessera router[\s\S]*--max-batch-size, --max-num-seqs N/],
    [['shard', '--help'], /usage: tessera shard[\s\S]*--quant-accuracy/],
    [['generate-model', '--help'], /usage: tessera generate-model --out DIR/],
    [['health', '--help'], /usage: tessera health/],
    [['quantize', '--help'], /usage: tessera quantize IN\.gguf\|HF_DIR OUT\.gguf TYPE[\s\S]*--type TYPE/],
    [['check-device', '-h'], /usage: tessera check-device[\s\S]*--device-id N/],
    [['serve', '--help'], /usage: tessera serve \[shard flags\] -- \[router flags\]/],
    [['launch', '--help'], /--shard-process/],
  ];
  for (const [args, re] of cases) {
    const r = tessera(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, re, args.join(' '));
  }
});

test('unknown and mistyped flags: one line, the nearest flag, exit 2 — for launch, router and shard alike', () => {
  assertUsageError(tessera(['launch', '--max-totl-tokens', '5']), /^tessera launch: unknown flag --max-totl-tokens \(did you mean --max-total-tokens\?\)$/m);
  assertUsageError(tessera(['launch', '--foo']), /unknown flag --foo/);
  assertUsageError(tessera(['router', '--model-id', 'm', '--shard-uris', 'a:1', '--prot', '1']), /did you mean --port\?/);
  assertUsageError(tessera(['shard', '--model-id', '/m', '--kv-cache-memry', '1GiB']), /did you mean --kv-cache-memory\?/);
  assertUsageError(tessera(['generate-model']), /--out DIR is required/);
  assertUsageError(tessera(['quantize', 'a.gguf', 'b.gguf', 'Q4_0', '--typ', 'Q8_0']), /^tessera quantize: unknown flag --typ \(did you mean --type\?\)$/m);
  assertUsageError(tessera(['quantize', 'a.gguf', 'b.gguf']), /expected IN\.gguf\|HF_DIR OUT\.gguf TYPE/);
  assertUsageError(tessera(['quantize', 'a.gguf', 'b.gguf', 'Q3_X']), /TYPE "Q3_X" is not one of/);
  assertUsageError(tessera(['quantize', 'a.gguf', 'b.gguf', 'Q4_0', 'extra']), /unexpected argument "extra": give IN OUT TYPE/);
  assertUsageError(tessera(['check-device', '--devic', 'cuda']), /^tessera check-device: unknown flag --devic \(did you mean --device\?\)$/m);
  assertUsageError(tessera(['check-device', '--device', 'tpu']), /--device must be cpu, cuda or webgpu, got "tpu"/);
  assertUsageError(tessera(['lunch']), /unknown command "lunch" \(did you mean "launch"\?\)/);
});

test('launch checks every shard and router flag, the model and the ports before it loads or generates a model', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cache = path.join(dir, 'cache');
  const launch = (...args: string[]) => tessera(['launch', '--cache-dir', cache, ...args]);
  assertUsageError(launch('--kv-layout', 'gpu'), /--kv-layout must be one of auto, host, device/);
  assertUsageError(launch('--max-batch-size', '0'), /--max-batch-size must be an integer ≥ 1/);
  assertUsageError(launch('--api-key-file', path.join(dir, 'missing')), /--api-key-file: cannot read/);
  assertUsageError(launch('--num-shard', '2', '--kv-layout', 'device'), /--kv-layout host/);
  assertUsageError(tessera(['serve', '--model-id', '/m']), /^tessera serve: expected the shard's flags, then '--', then the router's$/m);
  assertUsageError(tessera(['serve', '--model-id', '/m', '--world-size', '2', '--', '--model-id', '/m']), /--world-size must be 1, got 2/);
  assertUsageError(tessera(['serve', '--model-id', '/m', '--', '--model-id', '/m', '--prot', '1']), /did you mean --port\?/);
  // The model path is taken from the positional and from -m/--model, never dropped.
  const missing = path.join(dir, 'model.gguf');
  for (const args of [[missing], ['-m', missing], ['--model', missing]]) assertUsageError(launch(...args), /model not found: .*model\.gguf/);
  assertUsageError(tessera([missing]), /model not found/);
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const port = (holder.address() as net.AddressInfo).port;
  assertUsageError(launch('--port', String(port)), new RegExp(`port ${port} on 127.0.0.1 is already in use \\(--port\\)`));
  assertUsageError(launch('--shard-base-port', String(port)), /already in use \(--shard-base-port\)/);
  assert.equal(fs.existsSync(cache), false, 'no model was generated before the checks failed');
});

test('TESSERA_<FLAG> variables: a bad value is reported by flag or variable name, exit 2', () => {
  assertUsageError(tessera(['shard'], { TESSERA_MODEL_ID: '/nonexistent', TESSERA_PORT: 'not-a-port' }), /--port must be an integer/);
  assertUsageError(
    tessera(['router'], { TESSERA_MODEL_ID: '/m', TESSERA_SHARD_URIS: 'x:1', TESSERA_DISABLE_PREFIX_CACHING: 'maybe' }),
    /TESSERA_DISABLE_PREFIX_CACHING must be true or false/,
  );
  assertUsageError(tessera(['launch'], { TESSERA_MAX_TOTAL_TOKENS: 'lots' }), /--max-total-tokens must be an integer/);
});

test('a StatefulSet-style shard environment parses into the shard config; an explicit flag wins', () => {
  const env = {
    TESSERA_MODEL_ID: '/models/m',
    TESSERA_PORT: '50051',
    TESSERA_HOSTNAME: '0.0.0.0',
    TESSERA_RANK: '1',
    TESSERA_WORLD_SIZE: '2',
    TESSERA_KV_CACHE_MEMORY: '256MiB',
    TESSERA_ROUTER_ONLY_THING: 'ignored',
  };
  const config = parseShardArgs(['--rank', '0'], env)!;
  assert.equal(config.modelId, '/models/m');
  assert.equal(config.port, 50051);
  assert.equal(config.hostname, '0.0.0.0');
  assert.equal(config.rank, 0, 'explicit --rank wins over TESSERA_RANK');
  assert.equal(config.worldSize, 2);
  assert.equal(config.kvCacheMemory, 256 * 1024 ** 2);
});

test('a compose-style router environment parses into the router options; vLLM spellings map onto ours', () => {
  const env = {
    TESSERA_MODEL_ID: '/models/m',
    TESSERA_SHARD_URIS: 'shard-0:50051,shard-1:50051',
    TESSERA_PORT: '8080',
    TESSERA_MAX_BATCH_SIZE: '8',
    TESSERA_DISABLE_PREFIX_CACHING: 'yes',
    TESSERA_RANK: '3',
  };
  const opts = parseRouterArgs([], env);
  assert.deepEqual(opts.shardUris, ['shard-0:50051', 'shard-1:50051']);
  assert.equal(opts.port, 8080);
  assert.equal(opts.maxBatchSize, 8);
  assert.equal(opts.prefixCaching, false);
  const vllm = parseRouterArgs(['--model', '/m', '--shard-uris', 'a:1', '--host', '0.0.0.0', '--max-model-len', '512', '--max-num-seqs', '4']);
  assert.deepEqual([vllm.modelId, vllm.hostname, vllm.maxTotalTokens, vllm.maxBatchSize], ['/m', '0.0.0.0', 512, 4]);
});

test('a model that cannot load: one clear line and exit 1; the stack trace only at --log-level debug', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-badmodel-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'config.json'), '{ not json');
  const plain = tessera(['shard', '--model-id', dir, '--port', '0', '--log-level', 'warn']);
  assert.equal(plain.status, 1, plain.stderr);
  assert.match(plain.stderr, new RegExp(`^tessera shard: cannot start with ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .+$`, 'm'));
  assert.doesNotMatch(plain.stdout + plain.stderr, /\n\s+at /, 'no stack trace');
  const debug = tessera(['shard', '--model-id', dir, '--port', '0', '--log-level', 'debug']);
  assert.equal(debug.status, 1);
  assert.match(debug.stdout + debug.stderr, /\s+at /, 'stack trace at debug');
});
