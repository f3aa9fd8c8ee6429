// @module The `tessera` command line: `launch` (default), `shard`, `router`, `generate-model`, `quantize`, `health`, `check-device`.
import { argvWithEnv, EnvFlagError, scrubFlagEnv, type FlagSpec } from './env-flags.ts';

const USAGE = `usage: tessera <command> [flags]

commands:
  launch            start N shards and the router, wait until healthy (default command)
  shard             run one shard (gRPC) by itself
  router            run the HTTP router by itself, against --shard-uris
  generate-model    write a generated test model directory (--preset tiny|50m|1b|tp4 --out DIR)
  quantize          write a quantized copy of a float GGUF (IN.gguf OUT.gguf Q8_0|Q4_0|Q4_K|Q6_K|Q4_K_M)
  health            probe a shard (--grpc HOST:PORT) or a router (--http URL); exit 0 when healthy
  check-device      can this host run shards on --device cpu|cuda|webgpu, and which fused operators run there

Run 'tessera <command> --help' for the flags of each command. Every flag of launch, shard and
router may also come from the environment as TESSERA_<FLAG> (--model-id → TESSERA_MODEL_ID);
a flag on the command line wins.`;

/**
 * A service started by the launcher exits when the launcher is gone (killed with SIGKILL, say),
 * so no orphaned shard or router keeps a port or the model's memory.
 */
function exitWithSupervisor(): void {
  const supervisor = Number(process.env.TESSERA_SUPERVISOR_PID);
  if (!supervisor) return;
  setInterval(() => {
    if (process.ppid !== supervisor) {
      console.error('tessera: the launcher that started this process is gone; exiting');
      process.kill(process.pid, 'SIGTERM');
    }
  }, 1000).unref();
}

/** Flags the launcher sets per child (cluster shape): never inherited from its environment. */
const TOPOLOGY_FLAGS = ['rank', 'world-size', 'master-addr', 'master-port', 'shard-uris'];

function routerFlagSpec(options: Record<string, { type: string }>): FlagSpec {
  const flags = Object.keys(options);
  return { flags, switches: flags.filter((f) => options[f]!.type === 'boolean') };
}

/** `launch` knows its own flags, the shard flags it passes through, and every router flag but --shard-uris. */
async function launchFlagSpec(): Promise<FlagSpec> {
  const { LAUNCHER_FLAGS, shardOnlyFlags } = await import('./launch.ts');
  const { ROUTER_OPTIONS } = await import('@tessera/router');
  const router = routerFlagSpec(ROUTER_OPTIONS);
  const flags = new Set([...LAUNCHER_FLAGS, ...shardOnlyFlags(), ...router.flags]);
  flags.delete('shard-uris');
  return { flags, switches: router.switches };
}

/** argv with TESSERA_<FLAG> variables folded in, or null (after printing why) when one is invalid. */
function withEnv(command: string, argv: string[], spec: FlagSpec): string[] | null {
  try {
    return argvWithEnv(argv, spec);
  } catch (err) {
    if (!(err instanceof EnvFlagError)) throw err;
    console.error(`tessera ${command}: ${err.message}`);
    return null;
  }
}

/** Runs one sub-command and resolves the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  const command = first === undefined || first.startsWith('-') ? 'launch' : first;
  const args = command === first ? rest : argv;
  switch (command) {
    case 'launch': {
      const { launch } = await import('./launch.ts');
      const spec = await launchFlagSpec();
      const full = withEnv('launch', args, spec);
      if (!full) return 2;
      // The launcher passes what it read as explicit flags: its children must not read it again.
      scrubFlagEnv(process.env, [...spec.flags, ...TOPOLOGY_FLAGS]);
      return launch(full);
    }
    case 'shard': {
      exitWithSupervisor();
      const { main, SHARD_FLAGS } = await import('@tessera/shard');
      const full = withEnv('shard', args, { flags: SHARD_FLAGS });
      if (!full) return 2;
      await main(full);
      // main() reports bad flags and start-up failures through process.exitCode.
      return Number(process.exitCode ?? 0);
    }
    case 'router': {
      exitWithSupervisor();
      const { main, ROUTER_OPTIONS } = await import('@tessera/router');
      const full = withEnv('router', args, routerFlagSpec(ROUTER_OPTIONS));
      if (!full) return 2;
      await main(full);
      // main() reports bad flags through process.exitCode.
      return Number(process.exitCode ?? 0);
    }
    case 'health': {
      const { healthCommand } = await import('./health-check.ts');
      return healthCommand(args);
    }
    case 'check-device': {
      const { checkDeviceCommand } = await import('@tessera/shard');
      return checkDeviceCommand(args);
    }
    case 'quantize': {
      const { quantizeCommand } = await import('./quantize-command.ts');
      return quantizeCommand(args);
    }
    case 'generate-model': {
      const { generateModelCommand } = await import('./generate-model.ts');
      return generateModelCommand(args);
    }
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`tessera: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
