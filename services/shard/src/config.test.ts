// @module Shard flag parsing: defaults, forms, sizes and clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseByteSize, parseShardArgs } from './config.ts';

test('defaults and both flag forms', () => {
  const c = parseShardArgs(['--model-id', '/m', '--port=0', '--block-size', '32', '--kv-cache-memory', '512MiB'])!;
  assert.equal(c.modelId, '/m');
  assert.equal(c.port, 0);
  assert.equal(c.hostname, '127.0.0.1');
  assert.equal(c.rank, 0);
  assert.equal(c.worldSize, 1);
  assert.equal(c.blockSize, 32);
  assert.equal(c.kvCacheMemory, 512 * 1024 ** 2);
  assert.ok(c.threads >= 1);
  assert.equal(c.device, 'cpu');
  assert.equal(parseShardArgs(['--model-id', '/m'])!.port, 50051);
  assert.equal(parseShardArgs(['--model-id', '/m'])!.kvCacheMemory, null);
  assert.equal(parseShardArgs(['--help']), null);
});

test('byte sizes', () => {
  assert.equal(parseByteSize('1048576', 'x'), 1048576);
  assert.equal(parseByteSize('2GiB', 'x'), 2 * 1024 ** 3);
  assert.equal(parseByteSize('1.5k', 'x'), 1500);
  assert.throws(() => parseByteSize('lots', 'kv-cache-memory'), /--kv-cache-memory/);
});

test('errors name the flag', () => {
  assert.throws(() => parseShardArgs([]), /--model-id is required/);
  assert.throws(() => parseShardArgs(['--model-id', '/m', '--port', 'x']), /--port must be an integer/);
  assert.throws(() => parseShardArgs(['--model-id', '/m', '--rank', '2', '--world-size', '2']), /--rank/);
  assert.throws(() => parseShardArgs(['--model-id', '/m', '--bogus', '1']), /unknown flag --bogus/);
  assert.throws(() => parseShardArgs(['--model-id']), /--model-id needs a value/);
  assert.throws(() => parseShardArgs(['--model-id', '/m', '--device', 'tpu']), /--device must be one of/);
});

test('--quantize takes int8, int4, gptq or awq (default none) and names the modes otherwise', () => {
  assert.equal(parseShardArgs(['--model-id', '/m'])!.quantize, null);
  for (const mode of ['int8', 'int4', 'gptq', 'awq']) assert.equal(parseShardArgs(['--model-id', '/m', '--quantize', mode])!.quantize, mode);
  assert.throws(
    () => parseShardArgs(['--model-id', '/m', '--quantize', 'fp8']),
    /^ShardConfigError: --quantize must be one of int8, int4, gptq, awq, got "fp8"$/,
  );
});

test('--kv-cache-memory takes a fraction of free memory (a decimal number ≤ 1) as well as bytes', () => {
  const f = parseShardArgs(['--model-id', '/m', '--kv-cache-memory', '0.3'])!;
  assert.equal(f.kvCacheFraction, 0.3);
  assert.equal(f.kvCacheMemory, null);
  assert.equal(parseShardArgs(['--model-id', '/m', '--kv-cache-memory', '1.0'])!.kvCacheFraction, 1);
  const b = parseShardArgs(['--model-id', '/m', '--kv-cache-memory', '1'])!;
  assert.equal(b.kvCacheMemory, 1);
  assert.equal(b.kvCacheFraction, null);
  assert.throws(() => parseShardArgs(['--model-id', '/m', '--kv-cache-memory', '1.5']), /fraction of free memory must be in \(0, 1\]/);
});

test('device, dtype and KV layout: float16 and device-resident KV are the GPU defaults, each overridable', () => {
  const cpu = parseShardArgs(['--model-id', '/m'])!;
  assert.deepEqual([cpu.device, cpu.dtype, cpu.kvLayout, cpu.deviceId], ['cpu', 'float32', 'host', 0]);
  const webgpu = parseShardArgs(['--model-id', '/m', '--device', 'webgpu'])!;
  assert.deepEqual([webgpu.dtype, webgpu.kvLayout], ['float16', 'device']);
  const cuda = parseShardArgs(['--model-id', '/m', '--device', 'cuda', '--device-id', '3'])!;
  assert.deepEqual([cuda.dtype, cuda.kvLayout, cuda.deviceId], ['float16', 'host', 3]);
  const forced = parseShardArgs(['--model-id', '/m', '--device', 'webgpu', '--dtype', 'float32', '--kv-layout', 'host'])!;
  assert.deepEqual([forced.dtype, forced.kvLayout], ['float32', 'host']);
  assert.equal(parseShardArgs(['--model-id', '/m', '--dtype', 'float16', '--kv-layout', 'device'])!.kvLayout, 'device');
  assert.throws(() => parseShardArgs(['--model-id', '/m', '--dtype', 'bfloat16']), /--dtype must be one of/);
  assert.throws(() => parseShardArgs(['--model-id', '/m', '--kv-layout', 'gpu']), /--kv-layout must be one of/);
  assert.equal(parseShardArgs(['--model-id', '/m', '--world-size', '2', '--device', 'cuda'])!.dtype, 'float16', 'tensor parallelism runs float16 too');
  assert.throws(() => parseShardArgs(['--model-id', '/m', '--world-size', '2', '--device', 'webgpu']), /tensor parallelism .* --kv-layout host/);
});
