// @module The `tessera` command line: `launch` (default), `shard`, `router`, `generate-model`.

const USAGE = `usage: tessera <command> [flags]

commands:
  launch            start N shards and the router, wait until healthy (default command)
  shard             run one shard (gRPC) by itself
  router            run the HTTP router by itself, against --shard-uris
  generate-model    write a generated test model directory (--preset tiny|50m|tp4 --out DIR)

Run 'tessera <command> --help' for the flags of each command.`;

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

/** Runs one sub-command and resolves the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  const command = first === undefined || first.startsWith('-') ? 'launch' : first;
  const args = command === first ? rest : argv;
  switch (command) {
    case 'launch': {
      const { launch } = await import('./launch.ts');
      return launch(args);
    }
    case 'shard': {
      exitWithSupervisor();
      const { main } = await import('@tessera/shard');
      await main(args);
      return 0;
    }
    case 'router': {
      exitWithSupervisor();
      const { main } = await import('@tessera/router');
      await main(args);
      return 0;
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
