// @module `tessera launch`'s option table: its own flags plus the shard and router flags it passes through, derived from their tables.
import { grouped, pick, type CommandSpec, type OptionTable } from '@tessera/options';
import { ROUTER_OPTIONS } from '@tessera/router/options';
import { SHARD_OPTIONS, SHARD_TOPOLOGY_FLAGS } from '@tessera/shard/options';

/** Flags the launcher itself reads (some it also hands to every child, such as --log-level). */
export const LAUNCHER_OPTIONS = {
  'model-id': {
    type: 'string',
    value: 'PATH',
    short: 'm',
    aliases: ['model'],
    default: 'a generated, untrained TEST model',
    help: 'HF directory, .gguf file, or org/name[@revision] from the Hugging Face cache (also the positional MODEL)',
  },
  'num-shard': { type: 'string', value: 'N', aliases: ['tensor-parallel-size'], default: '1', help: 'shard processes (tensor parallel)' },
  port: { type: 'string', value: 'N', default: '8080', help: 'where the router listens' },
  hostname: { type: 'string', value: 'HOST', aliases: ['host'], default: '127.0.0.1', help: 'address the router binds' },
  'shard-base-port': {
    type: 'string',
    value: 'P',
    default: 'free ports',
    help: 'first shard gRPC port (rank r listens on P + r); with one shard it implies --shard-process',
  },
  'master-port': {
    type: 'string',
    value: 'P',
    default: 'a free port',
    help: 'with --num-shard > 1: where rank 0 meets the other shards (they then link over Unix sockets)',
  },
  'shard-process': {
    type: 'boolean',
    help:
      'with one shard: run it as its own gRPC process, as more shards are, so it can restart without the router ' +
      '(default: inside the router process, `tessera serve`, one gRPC hop less per first token)',
  },
  'cache-dir': { type: 'string', value: 'DIR', default: '$TESSERA_CACHE_DIR or ~/.cache/tessera', help: 'generated models and compiled graphs' },
  'startup-timeout': { type: 'string', value: 'S', default: '600', help: 'seconds to wait for each service' },
  'shard-restarts': {
    type: 'string',
    value: 'N',
    default: '3',
    help:
      'a shard that dies after start-up is started again on its port (with one shard in the router process: that process), ' +
      'up to N times; 0: any death stops everything',
  },
  'log-level': {
    type: 'string',
    value: 'LEVEL',
    default: 'info',
    help: 'fatal|error|warn|info|debug|trace|silent, for every process (debug adds stack traces to start-up failures)',
  },
} as const satisfies OptionTable;

/** Router flags the launcher sets itself (from its own flags and the shards it started). */
const ROUTER_SET_BY_LAUNCHER = new Set(['shard-uris', 'shard-connect-timeout']);

/** Shard flags passed through to every shard: all but those that place one process in the cluster. */
export const SHARD_PASS_THROUGH: OptionTable = pick(SHARD_OPTIONS, (n) => !SHARD_TOPOLOGY_FLAGS.has(n) && !(n in LAUNCHER_OPTIONS));
/** Router flags passed through to the router: all but the launcher's own and --shard-uris. */
export const ROUTER_PASS_THROUGH: OptionTable = pick(ROUTER_OPTIONS, (n) => !ROUTER_SET_BY_LAUNCHER.has(n) && !(n in LAUNCHER_OPTIONS));

export const LAUNCH_COMMAND: CommandSpec = {
  name: 'launch',
  synopsis: '[MODEL] [flags]',
  summary:
    'Starts the shard(s) and the router, waits for /health and prints the URL; Ctrl-C or\n' +
    'SIGTERM stops everything. Every flag is checked, and the ports, before any model is loaded.',
  options: {
    ...grouped(LAUNCHER_OPTIONS, 'launcher flags'),
    ...grouped(SHARD_PASS_THROUGH, 'shard flags (passed to every shard)'),
    ...grouped(ROUTER_PASS_THROUGH, 'router flags (passed to the router)'),
  },
  positional: { name: 'MODEL', option: 'model-id' },
  footer: '--api-key reaches the router in its environment, not on its command line (argv is readable by every local user).',
};

/** Flags a launched child must never read from the launcher's environment (it gets them explicitly, or they are per process). */
export function flagsScrubbedForChildren(): string[] {
  return [...new Set([...Object.keys(LAUNCH_COMMAND.options), ...Object.keys(SHARD_OPTIONS), ...Object.keys(ROUTER_OPTIONS)])];
}
