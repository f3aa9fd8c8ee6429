// @module `tessera shard` flags → a typed ShardConfig, with errors that name the flag.
import os from 'node:os';
import { QUANTIZE_MODES, type QuantizeMode } from '@tessera/model-files';
import { ShardConfigError } from './errors.ts';
import { defaultGraphCacheDir } from './graph/graph-cache.ts';
import type { QuantAccuracy } from './graph/linear.ts';
import type { KvLayout, StepGraphOptions } from './graph/llama.ts';

export const SHARD_USAGE = `usage: tessera shard --model-id PATH [flags]
  --model-id PATH          HF model directory or .gguf file (required)
  --port N                 gRPC port (default 50051; 0 picks a free one)
  --hostname HOST          bind address (default 127.0.0.1)
  --rank N                 this shard's rank (default 0)
  --world-size N           number of shards (default 1)
  --master-addr HOST       where rank 0 listens for the other ranks' collective links (default 127.0.0.1)
  --master-port N          that port (default 29500); ranks on one host switch to a Unix socket by themselves
  --collective-transport T auto (default: /dev/shm + a Unix socket on the same host; TESSERA_COLLECTIVE_SHM=0
                           keeps the socket alone) | tcp (always TCP)
  --collective-timeout S   seconds one all-reduce waits for a live peer before failing (default 60)
  --rendezvous-timeout S   seconds the ranks wait for each other at start (default 600)
  --kv-cache-memory SIZE   KV cache budget: bytes (1073741824, 512MiB, 2GiB) or a fraction of the memory
                           free at warmup (0.3, 1.0: a number with a decimal point, ≤ 1); default 25 % of free memory, max 2 GiB
  --block-size N           tokens per KV block (default 16)
  --threads N              intra-op threads (default: all cores)
  --cache-dir DIR          graph cache (default $TESSERA_CACHE_DIR or ~/.cache/tessera/graphs)
  --device cpu|cuda|webgpu execution provider, explicitly: one that cannot load fails the start (default cpu)
  --device-id N            CUDA device index (default 0; WebGPU takes the default adapter)
  --dtype float32|float16  weights, activations and KV cache (default float32 on cpu, float16 on a GPU);
                           norms, softmax and logits stay float32
  --kv-layout auto|host|device  where the KV pools live: device keeps them on the accelerator and the
                           graph writes them in place (default auto: device on webgpu, else host)
  --quantize MODE          int4 | int8: quantize a float checkpoint's linear layers at load (round-to-nearest,
                           block 32, cached with the graph); gptq | awq: require a checkpoint quantized so.
                           GGUF and GPTQ/AWQ files are executed quantized without it (docs/quantization.md)
  --quant-accuracy A       activations of quantized matmuls: int8 (default; llama.cpp does the same, fastest)
                           | float32 (float accumulation; fast for 4-bit weights, slow for 8-bit)
  --log-level LEVEL        pino level (default info)`;

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

const KNOWN_FLAGS = new Set(['model-id', 'port', 'hostname', 'rank', 'world-size', 'master-addr', 'master-port', 'collective-transport', 'collective-timeout', 'rendezvous-timeout', 'kv-cache-memory', 'block-size', 'threads', 'cache-dir', 'dtype', 'device', 'device-id', 'kv-layout', 'quantize', 'quant-accuracy', 'log-level']);
const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
/** Every flag `tessera shard` accepts (the CLI maps TESSERA_<FLAG> environment variables onto them). */
export const SHARD_FLAGS: ReadonlySet<string> = KNOWN_FLAGS;

/** Parses `--flag value` / `--flag=value` arguments; throws ShardConfigError (or returns null on --help). */
export function parseShardArgs(argv: readonly string[]): ShardConfig | null {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return null;
    if (!arg.startsWith('--')) throw new ShardConfigError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!KNOWN_FLAGS.has(name)) throw new ShardConfigError(`unknown flag --${name}`);
    let value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith('--'))) throw new ShardConfigError(`--${name} needs a value`);
    value = value.trim();
    values.set(name, value);
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

  const modelId = values.get('model-id');
  if (!modelId) throw new ShardConfigError('--model-id is required (an HF model directory or a .gguf file)');
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
    throw new ShardConfigError(`tensor parallelism (--world-size ${worldSize}) keeps the KV cache in host memory: use --kv-layout host (the segments exchange activations between processes, so a device-resident cache is not wired for it yet)`);
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
    logLevel,
  };
}

/** The step graph this config asks for. */
export function graphOptionsOf(config: Pick<ShardConfig, 'dtype' | 'kvLayout' | 'quantAccuracy'>): StepGraphOptions {
  return { dtype: config.dtype, kvLayout: config.kvLayout, quantAccuracy: config.quantAccuracy };
}
