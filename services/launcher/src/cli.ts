// @module The `tessera` command line: `launch` (default), `shard`, `router`, `serve`, `generate-model`, `quantize`, `health`, `check-device`.
import { existsSync } from 'node:fs';

const USAGE = `usage: tessera <command> [flags]

commands:
  launch            start the router and N shards (one shard: in the router process), wait until healthy (default command)
  shard             run one shard (gRPC) by itself
  router            run the HTTP router by itself, against --shard-uris
  serve             run the router and one shard in one process (what launch runs for one shard)
  generate-model    write a generated test model directory (--preset tiny|50m|1b|tp4 --out DIR)
  quantize          write a quantized copy of a float GGUF (IN.gguf OUT.gguf Q8_0|Q4_0|Q4_K|Q6_K|Q4_K_M)
  health            probe a shard (--grpc HOST:PORT) or a router (--http URL); exit 0 when healthy
  check-device      can this host run shards on --device cpu|cuda|webgpu, and which fused operators run there

Run 'tessera <command> --help' for the flags of each command; 'tessera --version' for the version.
Every flag of launch, shard and router may also come from the environment as TESSERA_<FLAG>
(--model-id → TESSERA_MODEL_ID); a flag on the command line wins. 'tessera MODEL' is 'tessera launch MODEL'.`;

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

/** `--version` anywhere before a `--` (any command): print the version, nothing else is loaded. */
function wantsVersion(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--version' || a === '-V');
}

const COMMANDS = new Set(['launch', 'shard', 'router', 'serve', 'health', 'check-device', 'quantize', 'generate-model', 'help']);

/** A first argument that names a model rather than a command: a path that exists, a .gguf, or org/name. */
function looksLikeModel(arg: string): boolean {
  return arg.includes('/') || arg.includes('.') || existsSync(arg);
}

/** Runs one sub-command and resolves the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  if (wantsVersion(argv)) {
    const { TESSERA_VERSION } = await import('@tessera/options');
    console.log(`tessera ${TESSERA_VERSION}`);
    return 0;
  }
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h') {
    console.log(USAGE);
    return 0;
  }
  // No command, a flag, or a model path first: `tessera model.gguf` is `tessera launch model.gguf`.
  const command = first === undefined || first.startsWith('-') || (!COMMANDS.has(first) && looksLikeModel(first)) ? 'launch' : first;
  const args = command === first ? rest : argv;
  switch (command) {
    case 'launch': {
      const { launch } = await import('./launch.ts');
      const { flagsScrubbedForChildren } = await import('./launch-options.ts');
      const { scrubFlagEnv } = await import('@tessera/options');
      // The launcher reads TESSERA_<FLAG> itself and passes what it read explicitly: its children must not read it again.
      const env = { ...process.env };
      scrubFlagEnv(process.env, flagsScrubbedForChildren());
      return launch(args, env);
    }
    case 'shard': {
      exitWithSupervisor();
      const { main } = await import('@tessera/shard');
      await main(args);
      // main() reports bad flags and start-up failures through process.exitCode.
      return Number(process.exitCode ?? 0);
    }
    case 'router': {
      exitWithSupervisor();
      const { main } = await import('@tessera/router');
      await main(args);
      // main() reports bad flags and start-up failures through process.exitCode.
      return Number(process.exitCode ?? 0);
    }
    case 'serve': {
      exitWithSupervisor();
      const { serve } = await import('./serve.ts');
      return serve(args);
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
      console.log(USAGE);
      return 0;
    default: {
      const { nearestFlag } = await import('@tessera/options');
      const hint = nearestFlag(command, [...COMMANDS]);
      console.error(`tessera: unknown command "${command}"${hint ? ` (did you mean "${hint}"?)` : ''}; see 'tessera --help'`);
      return 2;
    }
  }
}
