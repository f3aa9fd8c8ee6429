// @module `tessera serve`: the router with its one shard in the same process (what `launch` runs for one shard), no gRPC hop between them.
import type { Logger } from 'pino';
import { createLogger } from '@tessera/logging';
import { reportStartFailure } from '@tessera/options';
import { InProcessShard, InvalidArgumentError, parseRouterArgs, startRouter, type RouterOptions, type RunningRouter } from '@tessera/router';
import { loadShard, parseShardArgs, ShardConfigError, type LoadedShard, type ShardConfig } from '@tessera/shard';

export const SERVE_USAGE = `usage: tessera serve [shard flags] -- [router flags]

Runs the router and one shard (world size 1) in one process: the router calls the shard's runner
thread directly instead of over gRPC, which takes two process hops off every prefill and every
streamed step (docs/benchmarks.md). 'tessera launch' starts it for one shard (unless given
--shard-process), with the flags split for you; 'tessera shard --help' and 'tessera router --help'
list them. The router's --shard-uris is not used.`;

/** How often the process checks that its runner thread is alive (a dead one ends the process, so its supervisor restarts it). */
const RUNNER_WATCH_MS = 1_000;

function parse(argv: readonly string[]): { shard: ShardConfig; router: RouterOptions } | string | null {
  const split = argv.indexOf('--');
  if (argv.includes('--help') || argv.includes('-h')) return null;
  if (split === -1) return "expected the shard's flags, then '--', then the router's";
  try {
    const shard = parseShardArgs(argv.slice(0, split), process.env);
    if (shard === null) return null;
    if (shard.worldSize !== 1) return `an in-process shard is the whole model: --world-size must be 1, got ${shard.worldSize}`;
    const router = parseRouterArgs([...argv.slice(split + 1), '--shard-uris', 'in-process'], process.env);
    return { shard, router };
  } catch (err) {
    if (err instanceof ShardConfigError || err instanceof InvalidArgumentError) return err.message;
    throw err;
  }
}

export async function serve(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  if (parsed === null) {
    console.log(SERVE_USAGE);
    return 0;
  }
  if (typeof parsed === 'string') {
    console.error(`tessera serve: ${parsed}`);
    return 2;
  }
  const { shard: shardConfig, router: routerOptions } = parsed;
  const routerLogger = createLogger({ service: 'router', level: routerOptions.logLevel });
  const shardLogger = createLogger({ service: 'shard', level: shardConfig.logLevel, base: { rank: 0 } });
  let server: ServingProcess;
  try {
    server = await startServing(shardConfig, routerOptions, { router: routerLogger, shard: shardLogger });
  } catch (err) {
    reportStartFailure('serve', shardConfig.modelId, err, routerOptions.logLevel, routerLogger);
    return 1;
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      routerLogger.info({ signal }, 'stopping');
      server.stop(0);
    });
  }
  return server.stopped;
}

/** The router and its shard running in this process. */
export interface ServingProcess {
  router: RunningRouter;
  shard: LoadedShard;
  /** Drains the router, then stops the runner thread; `stopped` resolves with `code`. */
  stop(code: number): void;
  /** The exit code: 0 after stop(0), 1 once the runner thread has died (the router drained first). */
  readonly stopped: Promise<number>;
}

/**
 * Loads the shard while the router starts (it listens and answers 503 "warming up" meanwhile, as
 * beside shard processes), then watches the runner thread: one that dies stops everything with 1.
 */
export async function startServing(
  shardConfig: ShardConfig,
  routerOptions: RouterOptions,
  loggers: { router: Logger; shard: Logger },
): Promise<ServingProcess> {
  const loading = loadShard(shardConfig, { logger: loggers.shard });
  let router: RunningRouter;
  try {
    router = await startRouter(routerOptions, loggers.router, undefined, [new InProcessShard(loading.then((s) => s.handlers))]);
  } catch (err) {
    // A shard that failed to load is the cause to report; otherwise stop the shard that did load.
    throw await loading.then(
      async (s) => {
        await s.close();
        return err;
      },
      (loadErr: unknown) => loadErr,
    );
  }
  const shard = await loading;
  let settle!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (settle = resolve));
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    clearInterval(watch);
    router
      .close()
      .then(() => shard.close())
      .then(
        () => settle(code),
        (err: unknown) => {
          loggers.router.error({ err }, 'error while stopping');
          settle(1);
        },
      );
  };
  const watch = setInterval(() => {
    if (shard.client.alive) return;
    loggers.shard.error('the runner thread is gone; stopping (a supervisor restarts the process)');
    stop(1);
  }, RUNNER_WATCH_MS);
  return { router, shard, stop, stopped };
}
