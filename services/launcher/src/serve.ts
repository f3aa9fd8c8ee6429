// @module `tessera serve`: the router with its one shard in the same process (what `launch` runs for one shard), no gRPC hop between them.
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
  // The shard loads while the router listens (503 "warming up") and reads its tokenizer, as in separate processes.
  const loading = loadShard(shardConfig, { logger: shardLogger });
  let shard: LoadedShard | null = null;
  let router: RunningRouter;
  try {
    router = await startRouter(routerOptions, routerLogger, undefined, [new InProcessShard(loading.then((s) => s.handlers))]);
    shard = await loading;
  } catch (err) {
    const failure = await loading.then(
      async (s) => {
        await s.close();
        return err;
      },
      (loadErr: unknown) => loadErr,
    );
    reportStartFailure('serve', shardConfig.modelId, failure, routerOptions.logLevel, routerLogger);
    return 1;
  }
  const running = shard;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (code: number) => {
      if (stopping) return;
      stopping = true;
      clearInterval(watch);
      router
        .close()
        .then(() => running.close())
        .then(
          () => resolve(code),
          (err: unknown) => {
            routerLogger.error({ err }, 'error while stopping');
            resolve(1);
          },
        );
    };
    const watch = setInterval(() => {
      if (running.client.alive) return;
      shardLogger.error('the runner thread is gone; stopping (a supervisor restarts the process)');
      stop(1);
    }, RUNNER_WATCH_MS);
    process.once('SIGTERM', () => {
      routerLogger.info({ signal: 'SIGTERM' }, 'stopping');
      stop(0);
    });
    process.once('SIGINT', () => {
      routerLogger.info({ signal: 'SIGINT' }, 'stopping');
      stop(0);
    });
  });
}
