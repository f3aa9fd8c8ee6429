// @module `tessera shard` flags → a typed ShardConfig, with errors that name the flag.
import os from 'node:os';
import { ModelNotFoundError, QUANTIZE_MODES, resolveModelArg, type QuantizeMode } from '@tessera/model-files';
import { ShardConfigError } from './errors.ts';
import { defaultGraphCacheDir } from './graph/cache-dir.ts';
import type { QuantAccuracy } from './graph/linear.ts';
import type { KvLayout, StepGraphOptions } from './graph/llama.ts';
import { formatHelp, parseCommand, UsageError } from '@tessera/options';
import { SHARD_COMMAND, SHARD_OPTIONS } from './shard-options.ts';

/** `tessera shard --help`. */
export const SHARD_USAGE: string = formatHelp(SHARD_COMMAND);

export interface ShardConfig {
  modelId: string;
  port: number;
  hostname: string;
  rank: number;
  worldSize: number;
  /** Rendezvous of the tensor-parallel ranks (used when worldSize > 1). */
  masterAddr: string;
  masterPort: number;
  collectiveTransport: 'auto' | 'tcp';
  collectiveTimeoutMs: number;
  rendezvousTimeoutMs: number;
  /** Bytes, or null for the default budget (or a fraction). */
  kvCacheMemory: number | null;
  /** Fraction (0, 1] of the memory free at warmup, when --kv-cache-memory was given as one; else null. */
  kvCacheFraction: number | null;
  blockSize: number;
  threads: number;
  cacheDir: string;
  dtype: 'float32' | 'float16';
  device: 'cpu' | 'cuda' | 'webgpu';
  deviceId: number;
  kvLayout: KvLayout;
  /** --quantize (int8 | int4 quantize a float checkpoint at load; gptq | awq are checked against the model at load), or null. */
  quantize: QuantizeMode | null;
  quantAccuracy: QuantAccuracy;
  /** --speculate: draft tokens per decode step (0 = off). */
  speculate: number;
  logLevel: string;
}

export { ShardConfigError };

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 };

/** "2GiB", "512MB", "1048576" → bytes. */
export function parseByteSize(raw: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ShardConfigError(`--${flag} must be a byte size like 1073741824, 512MiB or 2GiB, got "${raw}"`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes <= 0) throw new ShardConfigError(`--${flag} must be positive, got "${raw}"`);
  return bytes;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
/** Every flag `tessera shard` accepts (the CLI maps TESSERA_<FLAG> environment variables onto them). */
export const SHARD_FLAGS: ReadonlySet<string> = new Set(Object.keys(SHARD_OPTIONS));

/**
 * Parses `tessera shard` arguments (and, when `env` is given, TESSERA_<FLAG> variables); throws
 * ShardConfigError (one line, naming the flag) or returns null on --help.
 */
export function parseShardArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ShardConfig | null {
  let values: Map<string, string>;
  try {
    const parsed = parseCommand(SHARD_COMMAND, argv, env);
    if (parsed.help) return null;
    values = parsed.values;
  } catch (err) {
    if (err instanceof UsageError) throw new ShardConfigError(err.message);
    throw err;
  }

  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new ShardConfigError(`--${name} must be an integer in [${min}, ${max}], got "${raw}"`);
    return n;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = values.get(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(raw)) throw new ShardConfigError(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
    return raw as T;
  };

  const given = values.get('model-id');
  if (!given) throw new ShardConfigError('--model-id is required (an HF model directory or a .gguf file)');
  let modelId: string;
  try {
    modelId = resolveModelArg(given).path;
  } catch (err) {
    if (err instanceof ModelNotFoundError) throw new ShardConfigError(err.message);
    throw err;
  }
  const worldSize = int('world-size', 1, 1);
  const rank = int('rank', 0, 0, worldSize - 1);
  const blockSize = int('block-size', 16, 1, 4096);
  const logLevel = values.get('log-level') ?? 'info';
  if (!LEVELS.has(logLevel)) throw new ShardConfigError(`--log-level must be one of ${[...LEVELS].join(', ')}, got "${logLevel}"`);
  const kv = values.get('kv-cache-memory');
  // "0.3" / "1.0" (a decimal point, no unit) is a fraction of free memory; anything else is a byte size.
  const kvFraction = kv !== undefined && /^\d*\.\d+$/.test(kv) ? Number(kv) : null;
  if (kvFraction !== null && !(kvFraction > 0 && kvFraction <= 1)) {
    throw new ShardConfigError(`--kv-cache-memory as a fraction of free memory must be in (0, 1], got "${kv}"`);
  }
  const device = oneOf('device', ['cpu', 'cuda', 'webgpu'] as const, 'cpu');
  const dtype = oneOf('dtype', ['float32', 'float16'] as const, device === 'cpu' ? 'float32' : 'float16');
  const layout = oneOf('kv-layout', ['auto', 'host', 'device'] as const, 'auto');
  const kvLayout: KvLayout = layout === 'auto' ? (device === 'webgpu' ? 'device' : 'host') : layout;
  if (worldSize > 1 && kvLayout !== 'host') {
    throw new ShardConfigError(
      `tensor parallelism (--world-size ${worldSize}) keeps the KV cache in host memory: use --kv-layout host (the segments exchange activations between processes, so a device-resident cache is not wired for it yet)`,
    );
  }
  return {
    modelId,
    port: int('port', 50051, 0, 65535),
    hostname: values.get('hostname') ?? '127.0.0.1',
    rank,
    worldSize,
    masterAddr: values.get('master-addr') ?? '127.0.0.1',
    masterPort: int('master-port', 29500, 1, 65535),
    collectiveTransport: oneOf('collective-transport', ['auto', 'tcp'] as const, 'auto'),
    collectiveTimeoutMs: int('collective-timeout', 60, 1, 86_400) * 1000,
    rendezvousTimeoutMs: int('rendezvous-timeout', 600, 1, 86_400) * 1000,
    kvCacheMemory: kv === undefined || kvFraction !== null ? null : parseByteSize(kv, 'kv-cache-memory'),
    kvCacheFraction: kvFraction,
    blockSize,
    threads: int('threads', os.availableParallelism(), 1, 1024),
    cacheDir: values.get('cache-dir') ?? defaultGraphCacheDir(),
    dtype,
    device,
    deviceId: int('device-id', 0, 0),
    kvLayout,
    quantize: values.has('quantize') ? oneOf('quantize', QUANTIZE_MODES, 'int8') : null,
    quantAccuracy: oneOf('quant-accuracy', ['int8', 'float32'] as const, 'int8'),
    speculate: int('speculate', 0, 0, 64),
    logLevel,
  };
}

/** The step graph this config asks for. */
export function graphOptionsOf(config: Pick<ShardConfig, 'dtype' | 'kvLayout' | 'quantAccuracy'>): StepGraphOptions {
  return { dtype: config.dtype, kvLayout: config.kvLayout, quantAccuracy: config.quantAccuracy };
}
