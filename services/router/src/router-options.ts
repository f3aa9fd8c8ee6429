// @module `tessera router`'s option table: parsing, --help, TESSERA_* variables and the launcher's pass-through all come from it.
import type { CommandSpec, OptionTable } from '@tessera/options';

/** The HTTP edge's flags (timeouts in seconds, connection cap, API key, CORS; docs/security.md). */
export const EDGE_OPTIONS = {
  'headers-timeout': { type: 'string', value: 'S', default: '20', help: 'seconds a client has to send the request line and headers' },
  'request-timeout': { type: 'string', value: 'S', default: '120', help: 'seconds a client has to send the whole request (0: none)' },
  'keep-alive-timeout': { type: 'string', value: 'S', default: '5', help: 'seconds an idle keep-alive connection stays open' },
  'max-connections': { type: 'string', value: 'N', default: '2048', help: 'open connections beyond which new ones are closed at once' },
  'sse-max-buffered-bytes': {
    type: 'string',
    value: 'N',
    default: '1048576',
    help: 'bytes a stream may queue for a client that does not read before it is cut',
  },
  'api-key': { type: 'string', value: 'KEY', help: 'required as Bearer or x-api-key on every route but --public-paths' },
  'api-key-file': { type: 'string', value: 'PATH', help: 'read the API key from a file (a trailing newline is dropped)' },
  'public-paths': { type: 'string', value: 'P[,P…]', default: '/health,/live,/metrics', help: 'GET/HEAD paths answered without the API key' },
  'cors-allow-origin': { type: 'string', value: 'ORIGIN[,…]', default: 'no CORS', help: "origins allowed to call from a browser ('*' for any)" },
} as const satisfies OptionTable;

export const ROUTER_OPTIONS = {
  'model-id': {
    type: 'string',
    value: 'PATH',
    short: 'm',
    aliases: ['model'],
    help: 'HF directory, .gguf file, or org/name[@revision] from the Hugging Face cache (required)',
  },
  'shard-uris': { type: 'string', value: 'HOST:PORT[,…]', help: 'gRPC addresses of the shards, rank order (required)' },
  port: { type: 'string', value: 'N', default: '8080', help: 'HTTP port (0 picks a free one)' },
  hostname: { type: 'string', value: 'HOST', aliases: ['host'], default: '127.0.0.1', help: 'address to bind' },
  'served-model-name': {
    type: 'string',
    value: 'NAME',
    default: "org/name, or the model path's basename",
    help: 'model name in OpenAI responses and /v1/models',
  },
  'chat-template': { type: 'string', value: 'FILE', help: "a Jinja chat template that replaces the model's own" },
  'generation-config': {
    type: 'string',
    value: 'auto|none',
    default: 'auto',
    help: "sampling defaults of the OpenAI routes from the model's generation_config.json, or none",
  },
  'max-concurrent-requests': { type: 'string', value: 'N', default: '128', help: 'requests in flight before answering 429' },
  'max-input-tokens': { type: 'string', value: 'N', default: 'max-total-tokens - 1', help: 'longest prompt in tokens' },
  'max-total-tokens': {
    type: 'string',
    value: 'N',
    aliases: ['max-model-len'],
    default: 'min(context, 4096, KV capacity)',
    help: 'longest prompt + generation in tokens',
  },
  'max-batch-prefill-tokens': {
    type: 'string',
    value: 'N',
    default: 'max(max-input-tokens + 50, 4096)',
    help: 'most prompt tokens in one prefill (longer prompts are chunked)',
  },
  'max-batch-total-tokens': { type: 'string', value: 'N', default: 'KV capacity', help: 'most tokens a running batch may hold' },
  'max-batch-size': { type: 'string', value: 'N', aliases: ['max-num-seqs'], default: 'unlimited', help: 'most requests in one batch' },
  'waiting-served-ratio': { type: 'string', value: 'R', default: '0.3', help: 'a new batch joins a running one only if it has ≥ R × its size entries' },
  'max-waiting-tokens': { type: 'string', value: 'N', default: '20', help: 'decode steps after which waiting requests are prefilled anyway' },
  'max-client-batch-size': { type: 'string', value: 'N', default: '4', help: 'inputs per client request, reported by /info' },
  'validation-workers': {
    type: 'string',
    value: 'N',
    default: '2',
    help: 'most threads rendering chat templates and tokenizing, started as needed (0: event loop)',
  },
  'disable-prefix-caching': { type: 'boolean', help: 'do not reuse KV blocks of shared prompt prefixes' },
  'disable-continuous-decode': {
    type: 'boolean',
    help: 'one Decode round trip per step instead of letting the shards step a running batch on their own',
  },
  'log-level': {
    type: 'string',
    value: 'LEVEL',
    default: 'info',
    help: 'fatal|error|warn|info|debug|trace|silent (debug adds stack traces to start-up failures)',
  },
  'log-prompts': { type: 'boolean', help: 'put prompt and output text into the request log lines' },
  'shutdown-timeout': { type: 'string', value: 'S', default: '30', help: 'seconds SIGTERM waits for in-flight requests' },
  'shard-connect-timeout': {
    type: 'string',
    value: 'S',
    default: '120',
    help: 'seconds the router waits, answering 503 "warming up", for every shard to come up',
  },
  ...EDGE_OPTIONS,
} as const satisfies OptionTable;

export const ROUTER_COMMAND: CommandSpec = {
  name: 'router',
  synopsis: '--model-id PATH --shard-uris HOST:PORT[,…] [flags]',
  summary: 'Runs the HTTP router (OpenAI + TGI APIs) by itself, against running shards.',
  options: ROUTER_OPTIONS,
  footer: 'HTTP edge flags (timeouts, API key, CORS): docs/security.md.',
};
