// Environment configuration: TESSERA_<FLAG> → flags, explicit flags win, parsed by the real shard and router parsers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SHARD_FLAGS, parseShardArgs } from '@tessera/shard';
import { ROUTER_OPTIONS, parseRouterArgs } from '@tessera/router';
import { argvWithEnv, envVarName, flagsFromEnv, scrubFlagEnv } from './env-flags.ts';
import { TESSERA_BIN } from './supervisor.ts';

const routerSpec = {
  flags: Object.keys(ROUTER_OPTIONS),
  switches: Object.keys(ROUTER_OPTIONS).filter((k) => ROUTER_OPTIONS[k as keyof typeof ROUTER_OPTIONS].type === 'boolean'),
};

test('variable names are TESSERA_ + the flag in upper snake case', () => {
  assert.equal(envVarName('model-id'), 'TESSERA_MODEL_ID');
  assert.equal(envVarName('world-size'), 'TESSERA_WORLD_SIZE');
  assert.equal(envVarName('port'), 'TESSERA_PORT');
});

test('only flags the command knows are read; empty values are ignored; = form keeps values intact', () => {
  const env = { TESSERA_PORT: '9000', TESSERA_RANK: '1', TESSERA_NOT_A_FLAG: 'x', TESSERA_HOSTNAME: '', TESSERA_MODEL_ID: '--odd/path' };
  assert.deepEqual(flagsFromEnv([], { flags: ['port', 'hostname', 'model-id'] }, env), ['--port=9000', '--model-id=--odd/path']);
});

test('an explicit flag wins over its variable, in both --flag value and --flag=value forms', () => {
  const env = { TESSERA_PORT: '9000', TESSERA_HOSTNAME: '0.0.0.0' };
  const spec = { flags: ['port', 'hostname'] };
  assert.deepEqual(argvWithEnv(['--port', '1234'], spec, env), ['--hostname=0.0.0.0', '--port', '1234']);
  assert.deepEqual(argvWithEnv(['--hostname=::'], spec, env), ['--port=9000', '--hostname=::']);
});

test('switches: true-ish turns on, false-ish leaves off, anything else is an error naming the variable', () => {
  const spec = { flags: ['disable-prefix-caching'], switches: ['disable-prefix-caching'] };
  assert.deepEqual(flagsFromEnv([], spec, { TESSERA_DISABLE_PREFIX_CACHING: 'true' }), ['--disable-prefix-caching']);
  assert.deepEqual(flagsFromEnv([], spec, { TESSERA_DISABLE_PREFIX_CACHING: '0' }), []);
  assert.throws(() => flagsFromEnv([], spec, { TESSERA_DISABLE_PREFIX_CACHING: 'maybe' }), /TESSERA_DISABLE_PREFIX_CACHING must be true or false/);
});

test('a StatefulSet-style shard environment parses into the shard config', () => {
  const env = {
    TESSERA_MODEL_ID: '/models/m',
    TESSERA_PORT: '50051',
    TESSERA_HOSTNAME: '0.0.0.0',
    TESSERA_RANK: '1',
    TESSERA_WORLD_SIZE: '2',
    TESSERA_KV_CACHE_MEMORY: '256MiB',
    TESSERA_ROUTER_ONLY_THING: 'ignored',
  };
  const config = parseShardArgs(argvWithEnv(['--rank', '0'], { flags: SHARD_FLAGS }, env))!;
  assert.equal(config.modelId, '/models/m');
  assert.equal(config.port, 50051);
  assert.equal(config.hostname, '0.0.0.0');
  assert.equal(config.rank, 0, 'explicit --rank wins over TESSERA_RANK');
  assert.equal(config.worldSize, 2);
  assert.equal(config.kvCacheMemory, 256 * 1024 ** 2);
});

test('a compose-style router environment parses into the router options', () => {
  const env = {
    TESSERA_MODEL_ID: '/models/m',
    TESSERA_SHARD_URIS: 'shard-0:50051,shard-1:50051',
    TESSERA_PORT: '8080',
    TESSERA_MAX_BATCH_SIZE: '8',
    TESSERA_DISABLE_PREFIX_CACHING: 'yes',
    TESSERA_RANK: '3',
  };
  const opts = parseRouterArgs(argvWithEnv([], routerSpec, env));
  assert.deepEqual(opts.shardUris, ['shard-0:50051', 'shard-1:50051']);
  assert.equal(opts.port, 8080);
  assert.equal(opts.maxBatchSize, 8);
  assert.equal(opts.prefixCaching, false);
});

test('scrubFlagEnv removes exactly the named flags’ variables', () => {
  const env: NodeJS.ProcessEnv = { TESSERA_RANK: '1', TESSERA_PORT: '1', TESSERA_GIT_SHA: 'abc' };
  scrubFlagEnv(env, ['rank', 'port']);
  assert.deepEqual(env, { TESSERA_GIT_SHA: 'abc' });
});

test('the CLI applies the environment: a bad TESSERA_PORT is reported as --port, an invalid switch value by name', () => {
  const run = (command: string, env: Record<string, string>) =>
    spawnSync(process.execPath, [TESSERA_BIN, command], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  const shard = run('shard', { TESSERA_MODEL_ID: '/nonexistent', TESSERA_PORT: 'not-a-port' });
  assert.equal(shard.status, 2, shard.stderr);
  assert.match(shard.stderr, /--port must be an integer/);
  const router = run('router', { TESSERA_MODEL_ID: '/m', TESSERA_SHARD_URIS: 'x:1', TESSERA_DISABLE_PREFIX_CACHING: 'maybe' });
  assert.equal(router.status, 2, router.stderr);
  assert.match(router.stderr, /TESSERA_DISABLE_PREFIX_CACHING must be true or false/);
});
