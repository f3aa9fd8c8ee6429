// @module `tessera launch`: start N shards, then the router, wait for /health, print the URL; stop all on a signal.
import os from 'node:os';
import path from 'node:path';
import { ensureGeneratedModel } from '@tessera/model-files';
import { createLogger } from '@tessera/logging';
import { FlagError, intFlag, parseFlags, toArgv } from './flags.ts';
import { freePort, waitForRouter, waitForShard } from './readiness.ts';
import { Supervisor } from './supervisor.ts';

const HELP = `usage: tessera launch [--model-id PATH] [--num-shard N] [--port 8080] [--hostname 127.0.0.1] [flags]

  --model-id PATH         HF directory or .gguf file; default: a generated, untrained TEST model
  --num-shard N           shard processes (tensor parallel), default 1
  --port, --hostname      where the router listens (default 8080, 127.0.0.1)
  --shard-base-port P     first shard gRPC port (default: free ports)
  --master-port P         with --num-shard > 1: where rank 0 meets the other shards (default: a free port);
                          the shards then link over Unix sockets
  --cache-dir DIR         generated models and compiled graphs (default $TESSERA_CACHE_DIR or ~/.cache/tessera)
  --startup-timeout S     seconds to wait for each service (default 600)
  --shard-restarts N      a shard that dies after start-up is started again on its port, up to N times
                          (default 3; the router re-warms it); 0: any death stops everything
  --log-level LEVEL       trace|debug|info|warn|error (default info)
  --api-key KEY           (or TESSERA_API_KEY, or --api-key-file PATH) required by the router on every route
                          but --public-paths; handed to the router in its environment, not its command line
shard flags passed through: ${'--' + [...shardOnlyFlags()].join(' --')}
every other flag is passed to the router (see 'tessera router --help').`;

/** Shard flags the launcher passes through to every shard. */
export function shardOnlyFlags(): Set<string> {
  return new Set(['kv-cache-memory', 'block-size', 'threads', 'dtype', 'device', 'device-id', 'kv-layout', 'quantize', 'quant-accuracy', 'collective-transport', 'collective-timeout', 'rendezvous-timeout']);
}
/** The launcher's own flags (every other flag goes to the router). */
export const LAUNCHER_FLAGS = new Set(['model-id', 'num-shard', 'port', 'hostname', 'shard-base-port', 'master-port', 'cache-dir', 'startup-timeout', 'shard-restarts', 'log-level', 'help']);

/** Router flags that take no value (passed through bare). */
const ROUTER_SWITCHES = new Set(['disable-prefix-caching', 'log-prompts']);

/**
 * How long the launcher lets each child stop after SIGTERM before SIGKILL: the router drains for up
 * to its --shutdown-timeout (default 30 s), so allow that plus a margin.
 */
function stopGraceMs(values: Map<string, string>): number {
  const raw = Number(values.get('shutdown-timeout') ?? 30);
  return ((Number.isFinite(raw) && raw >= 0 ? raw : 30) + 15) * 1000;
}

/** The router's environment: an --api-key travels in TESSERA_API_KEY, because argv is readable by every local user (/proc). */
function routerEnv(apiKey: string | undefined): NodeJS.ProcessEnv {
  return apiKey === undefined ? process.env : { ...process.env, TESSERA_API_KEY: apiKey };
}

export function defaultCacheRoot(): string {
  return process.env.TESSERA_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'tessera');
}

export async function launch(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, new Set(['help', ...ROUTER_SWITCHES]));
  } catch (err) {
    console.error(`tessera launch: ${(err as Error).message}`);
    return 2;
  }
  const v = flags.values;
  if (v.has('help')) {
    console.log(HELP);
    return 0;
  }
  const supervisor = new Supervisor();
  // Lifecycle events are structured logs like the services' (JSON, or readable on a TTY); usage
  // errors, --help and the one-line ready message stay plain CLI output.
  const logger = createLogger({ service: 'launcher', level: v.get('log-level') ?? 'info' });
  const onSignal = (signal: string) => {
    logger.info({ signal }, `${signal} received, stopping`);
    // Newest first: the router drains in-flight requests, then the shards stop.
    void supervisor.stopAll(stopGraceMs(v)).then(() => process.exit(0));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  try {
    const numShard = intFlag(v, 'num-shard', 1, 1);
    const port = intFlag(v, 'port', 8080, 0);
    const hostname = v.get('hostname') ?? '127.0.0.1';
    const timeoutMs = intFlag(v, 'startup-timeout', 600, 1) * 1000;
    const cacheRoot = path.resolve(v.get('cache-dir') ?? defaultCacheRoot());
    const logLevel = v.get('log-level') ?? 'info';
    let modelId = v.get('model-id');
    if (!modelId) {
      modelId = await ensureGeneratedModel(cacheRoot, 'tiny', { onProgress: (m: string) => logger.info(m) });
      logger.warn({ model: modelId }, 'no --model-id given: serving a generated, untrained test model');
      console.error(
        '\n  ************************************************************************\n' +
          '  * No --model-id given: serving a GENERATED, UNTRAINED TEST MODEL.       *\n' +
          '  * Its output is gibberish by design. Use --model-id PATH for real use.  *\n' +
          '  ************************************************************************\n' +
          `  model: ${modelId}\n`,
      );
    }
    const passShard: [string, string][] = [];
    const passRouter: [string, string][] = [];
    for (const [k, val] of v) {
      if (LAUNCHER_FLAGS.has(k) || k === 'api-key') continue;
      (shardOnlyFlags().has(k) ? passShard : passRouter).push([k, val]);
    }
    if (!passShard.some(([k]) => k === 'threads')) {
      passShard.push(['threads', String(Math.max(1, Math.floor(os.availableParallelism() / numShard)))]);
    }
    const basePort = v.has('shard-base-port') ? intFlag(v, 'shard-base-port', 0, 1) : null;
    const shardAddrs: string[] = [];
    // Tensor parallel: rank 0 listens on loopback; the ranks upgrade to Unix sockets (same host).
    const collective = numShard > 1 ? ['--master-addr', '127.0.0.1', '--master-port', String(v.has('master-port') ? intFlag(v, 'master-port', 0, 1) : await freePort())] : [];
    for (let rank = 0; rank < numShard; rank++) {
      const shardPort = basePort !== null ? basePort + rank : await freePort();
      const addr = `127.0.0.1:${shardPort}`;
      shardAddrs.push(addr);
      supervisor.start(`shard ${rank}`, [
        'shard', '--model-id', modelId, '--port', String(shardPort), '--hostname', '127.0.0.1',
        '--rank', String(rank), '--world-size', String(numShard), ...collective,
        '--cache-dir', path.join(cacheRoot, 'graphs'), '--log-level', logLevel, ...toArgv(passShard),
      ]);
    }
    const death = supervisor.firstDeath.then((what) => {
      throw new Error(what);
    });
    death.catch(() => {});
    await Promise.race([Promise.all(shardAddrs.map((a) => waitForShard(a, timeoutMs, death))), death]);
    const routerPort = port === 0 ? await freePort(hostname) : port;
    supervisor.start('router', [
      'router', '--model-id', modelId, '--shard-uris', shardAddrs.join(','), '--port', String(routerPort),
      '--hostname', hostname, '--log-level', logLevel, ...toArgv(passRouter, ROUTER_SWITCHES),
    ], routerEnv(v.get('api-key')));
    const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${routerPort}`;
    await Promise.race([waitForRouter(url, timeoutMs, death), death]);
    logger.info({ url, model: modelId, shards: numShard }, 'ready');
    console.log(`Tessera is ready: ${url}  (model ${modelId}, ${numShard} shard${numShard > 1 ? 's' : ''})`);
    // A shard that dies is started again on its port (the router re-warms it, docs/observability.md);
    // more than --shard-restarts deaths, or the router's, end the run.
    let restarts = 0;
    const maxRestarts = intFlag(v, 'shard-restarts', 3, 0);
    supervisor.restartWith((name, why) => {
      if (!name.startsWith('shard') || restarts >= maxRestarts) return false;
      restarts++;
      logger.warn({ reason: why, restart: restarts, of: maxRestarts }, `${why}; starting it again (${restarts}/${maxRestarts})`);
      return true;
    });
    const what = await supervisor.firstDeath;
    logger.error({ reason: what }, `${what}; stopping the others`);
    await supervisor.stopAll();
    return 1;
  } catch (err) {
    if (supervisor.stopping) return 0;
    if (err instanceof FlagError) console.error(`tessera launch: ${err.message}`);
    else logger.error({ err: (err as Error).message }, 'start-up failed; stopping');
    await supervisor.stopAll();
    return 1;
  }
}
