// @module `tessera shard`'s option table: parsing, --help, TESSERA_* variables and the launcher's pass-through all come from it.
import type { CommandSpec, OptionTable } from '@tessera/options';

export const SHARD_OPTIONS = {
  'model-id': {
    type: 'string',
    value: 'PATH',
    short: 'm',
    aliases: ['model'],
    help: 'HF model directory, .gguf file, or org/name from the Hugging Face cache (required)',
  },
  port: { type: 'string', value: 'N', default: '50051', help: 'gRPC port (0 picks a free one)' },
  hostname: { type: 'string', value: 'HOST', aliases: ['host'], default: '127.0.0.1', help: 'bind address' },
  rank: { type: 'string', value: 'N', default: '0', help: "this shard's rank" },
  'world-size': { type: 'string', value: 'N', default: '1', help: 'number of shards' },
  'master-addr': { type: 'string', value: 'HOST', default: '127.0.0.1', help: "where rank 0 listens for the other ranks' collective links" },
  'master-port': { type: 'string', value: 'N', default: '29500', help: 'that port; ranks on one host switch to a Unix socket by themselves' },
  'collective-transport': {
    type: 'string',
    value: 'auto|tcp',
    default: 'auto',
    help: 'auto: /dev/shm + a Unix socket on the same host (TESSERA_COLLECTIVE_SHM=0 keeps the socket alone); tcp: always TCP',
  },
  'collective-timeout': { type: 'string', value: 'S', default: '60', help: 'seconds one all-reduce waits for a live peer before failing' },
  'rendezvous-timeout': { type: 'string', value: 'S', default: '600', help: 'seconds the ranks wait for each other at start' },
  'kv-cache-memory': {
    type: 'string',
    value: 'SIZE',
    default: '25 % of free memory, max 2 GiB',
    help: 'KV cache budget: bytes (1073741824, 512MiB, 2GiB) or a fraction of the memory free at warmup (0.3, 1.0)',
  },
  'block-size': { type: 'string', value: 'N', default: '16', help: 'tokens per KV block' },
  threads: { type: 'string', value: 'N', default: 'all cores', help: 'intra-op threads' },
  'cache-dir': { type: 'string', value: 'DIR', default: '$TESSERA_CACHE_DIR or ~/.cache/tessera/graphs', help: 'graph cache' },
  device: { type: 'string', value: 'cpu|cuda|webgpu', default: 'cpu', help: 'execution provider, explicitly: one that cannot load fails the start' },
  'device-id': { type: 'string', value: 'N', default: '0', help: 'CUDA device index (WebGPU takes the default adapter)' },
  dtype: {
    type: 'string',
    value: 'float32|float16',
    default: 'float32 on cpu, float16 on a GPU',
    help: 'weights, activations and KV cache; norms, softmax and logits stay float32',
  },
  'kv-layout': {
    type: 'string',
    value: 'auto|host|device',
    default: 'auto: device on webgpu, else host',
    help: 'where the KV pools live: device keeps them on the accelerator, written in place by the graph',
  },
  quantize: {
    type: 'string',
    value: 'MODE',
    help: "int4 | int8: quantize a float checkpoint's linear layers at load (RTN, block 32); gptq | awq: require a checkpoint quantized so (docs/quantization.md)",
  },
  'quant-accuracy': {
    type: 'string',
    value: 'int8|float32',
    default: 'int8',
    help: 'activations of quantized matmuls: int8 (like llama.cpp, fastest) or float32 accumulation',
  },
  speculate: {
    type: 'string',
    value: 'N',
    default: '0 (off)',
    help: 'speculative decoding: up to N draft tokens per decode step from prompt lookup (n-gram match in prompt + output), verified in one forward; greedy output is unchanged (docs/speculation.md)',
  },
  'log-level': {
    type: 'string',
    value: 'LEVEL',
    default: 'info',
    help: 'fatal|error|warn|info|debug|trace|silent (debug adds stack traces to start-up failures)',
  },
} as const satisfies OptionTable;

/** Flags that describe one process's place in a cluster: the launcher sets them per child, never passes a user's through. */
export const SHARD_TOPOLOGY_FLAGS: ReadonlySet<string> = new Set([
  'model-id',
  'port',
  'hostname',
  'rank',
  'world-size',
  'master-addr',
  'master-port',
  'cache-dir',
  'log-level',
]);

export const SHARD_COMMAND: CommandSpec = {
  name: 'shard',
  synopsis: '--model-id PATH [flags]',
  summary: 'Runs one shard (gRPC, with grpc.health.v1) by itself: for docker compose and Kubernetes.',
  options: SHARD_OPTIONS,
};
