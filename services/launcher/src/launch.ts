// @module `tessera launch`: start N shards and the router, wait for /health, print the URL; stop all on a signal.
import os from 'node:os';
import path from 'node:path';
import { ensureGeneratedModel } from '@tessera/model-files';
import { createLogger } from '@tessera/logging';
import { formatHelp, parseCommand, toArgv, UsageError } from '@tessera/options';
import { checkChildFlags, checkModel, checkPortFree } from './launch-checks.ts';
import { LAUNCH_COMMAND, LAUNCHER_OPTIONS, SHARD_PASS_THROUGH } from './launch-options.ts';
import { freePort, waitForRouter, waitForShard } from './readiness.ts';
import { Supervisor } from './supervisor.ts';

/** The child that runs the router with its shard in one process (`tessera serve`). */
const SERVER = 'router+shard';

/** `--name N`: an integer ≥ min, or a UsageError naming the flag. */
function intFlag(values: Map<string, string>, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = values.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return n;
}

/**
 * How long the launcher lets each child stop after SIGTERM before SIGKILL: the router drains for up
 * to its --shutdown-timeout (default 30 s), so allow that plus a margin.
 */
function stopGraceMs(shutdownTimeout: string | undefined): number {
  const raw = Number(shutdownTimeout ?? 30);
  return ((Number.isFinite(raw) && raw >= 0 ? raw : 30) + 15) * 1000;
}

/** The router's environment: an --api-key travels in TESSERA_API_KEY, because argv is readable by every local user (/proc). */
function routerEnv(apiKey: string | undefined): NodeJS.ProcessEnv {
  return apiKey === undefined ? process.env : { ...process.env, TESSERA_API_KEY: apiKey };
}

export function defaultCacheRoot(): string {
  return process.env.TESSERA_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'tessera');
}

/** What `tessera launch` resolved from its command line, checked before anything is started. */
interface LaunchPlan {
  numShard: number;
  port: number;
  hostname: string;
  timeoutMs: number;
  cacheRoot: string;
  logLevel: string;
  maxRestarts: number;
  basePort: number | null;
  masterPort: number | null;
  /** Null: serve the generated test model. */
  model: { path: string; servedName: string } | null;
  shardFlags: [string, string][];
  routerFlags: [string, string][];
  apiKey: string | undefined;
  shutdownTimeout: string | undefined;
  /** One shard and no --shard-process: one `tessera serve` process instead of a shard and a router. */
  inProcess: boolean;
}

/** A model path that exists, standing in for the one not generated yet while the children's flags are checked. */
const PLACEHOLDER_MODEL = process.execPath;

/** Parses and checks everything — every shard and router flag, the model, the ports — before any model is loaded. */
async function plan(values: Map<string, string>): Promise<LaunchPlan> {
  const numShard = intFlag(values, 'num-shard', 1, 1, 64);
  // One shard runs inside the router process unless asked for a process of its own (or a gRPC port for it).
  const inProcess = numShard === 1 && !values.has('shard-process') && !values.has('shard-base-port');
  const port = intFlag(values, 'port', 8080, 0, 65535);
  const hostname = values.get('hostname') ?? '127.0.0.1';
  const basePort = values.has('shard-base-port') ? intFlag(values, 'shard-base-port', 0, 1, 65535 - numShard + 1) : null;
  const masterPort = values.has('master-port') ? intFlag(values, 'master-port', 0, 1, 65535) : null;
  const shardFlags: [string, string][] = [];
  const routerFlags: [string, string][] = [];
  for (const [k, v] of values) {
    if (k in LAUNCHER_OPTIONS || k === 'api-key') continue;
    (k in SHARD_PASS_THROUGH ? shardFlags : routerFlags).push([k, v]);
  }
  const given = values.get('model-id');
  const model = given === undefined ? null : checkModel(given);
  const modelPath = model?.path ?? PLACEHOLDER_MODEL;
  const logLevel = values.get('log-level') ?? 'info';
  const apiKey = values.get('api-key');
  await checkChildFlags(
    ['--model-id', modelPath, '--world-size', String(numShard), '--log-level', logLevel, ...toArgv(shardFlags, LAUNCH_COMMAND)],
    [
      '--model-id',
      modelPath,
      '--shard-uris',
      '127.0.0.1:1',
      '--port',
      String(port),
      '--hostname',
      hostname,
      '--log-level',
      logLevel,
      ...(apiKey !== undefined ? ['--api-key', apiKey] : []),
      ...toArgv(routerFlags, LAUNCH_COMMAND),
    ],
  );
  if (port !== 0) await checkPortFree(port, hostname, '--port');
  for (let rank = 0; basePort !== null && rank < numShard; rank++) await checkPortFree(basePort + rank, '127.0.0.1', '--shard-base-port');
  if (masterPort !== null && numShard > 1) await checkPortFree(masterPort, '127.0.0.1', '--master-port');
  return {
    numShard,
    port,
    hostname,
    timeoutMs: intFlag(values, 'startup-timeout', 600, 1) * 1000,
    cacheRoot: path.resolve(values.get('cache-dir') ?? defaultCacheRoot()),
    logLevel,
    maxRestarts: intFlag(values, 'shard-restarts', 3, 0),
    basePort,
    masterPort,
    model,
    shardFlags,
    routerFlags,
    apiKey,
    shutdownTimeout: values.get('shutdown-timeout'),
    inProcess,
  };
}

/** `tessera launch [MODEL] [flags]`; TESSERA_<FLAG> variables fill in the flags not given. */
export async function launch(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let p: LaunchPlan;
  try {
    const parsed = parseCommand(LAUNCH_COMMAND, argv, env);
    if (parsed.help) {
      console.log(formatHelp(LAUNCH_COMMAND));
      return 0;
    }
    p = await plan(parsed.values);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tessera launch: ${err.message}`);
    return 2;
  }
  const supervisor = new Supervisor();
  // Lifecycle events are structured logs like the services' (JSON, or readable on a TTY); usage
  // errors, --help and the one-line ready message stay plain CLI output.
  const logger = createLogger({ service: 'launcher', level: p.logLevel });
  const onSignal = (signal: string) => {
    logger.info({ signal }, `${signal} received, stopping`);
    // Newest first: the router drains in-flight requests, then the shards stop.
    void supervisor.stopAll(stopGraceMs(p.shutdownTimeout)).then(() => process.exit(0));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  try {
    const { numShard, hostname, timeoutMs, cacheRoot, logLevel } = p;
    let model = p.model;
    if (model === null) {
      const generated = await ensureGeneratedModel(cacheRoot, 'tiny', { onProgress: (m: string) => logger.info(m) });
      model = { path: generated, servedName: path.basename(generated) };
      logger.warn({ model: generated }, 'no --model-id given: serving a generated, untrained test model');
      console.error(
        '\n  ************************************************************************\n' +
          '  * No --model-id given: serving a GENERATED, UNTRAINED TEST MODEL.       *\n' +
          '  * Its output is gibberish by design. Use --model-id PATH for real use.  *\n' +
          '  ************************************************************************\n' +
          `  model: ${generated}\n`,
      );
    }
    const passShard = [...p.shardFlags];
    if (!passShard.some(([k]) => k === 'threads')) {
      // One core stays with the router and the shards' own threads: on 2 cores, 1 intra-op thread instead
      // of 2 gave 1.3-2x the tok/s at 1 and 32 streams (docs/benchmarks.md, "Intra-op threads").
      passShard.push(['threads', String(Math.max(1, Math.floor((os.availableParallelism() - 1) / numShard)))]);
    }
    const passRouter = [...p.routerFlags];
    if (!passRouter.some(([k]) => k === 'served-model-name')) passRouter.push(['served-model-name', model.servedName]);
    // What every shard gets, in its own process or in the router's.
    const shardArgs = ['--model-id', model.path, '--cache-dir', path.join(cacheRoot, 'graphs'), '--log-level', logLevel, ...toArgv(passShard, LAUNCH_COMMAND)];
    const shardAddrs: string[] = [];
    // Tensor parallel: rank 0 listens on loopback; the ranks upgrade to Unix sockets (same host).
    const collective = numShard > 1 ? ['--master-addr', '127.0.0.1', '--master-port', String(p.masterPort ?? (await freePort()))] : [];
    for (let rank = 0; rank < numShard && !p.inProcess; rank++) {
      const shardPort = p.basePort !== null ? p.basePort + rank : await freePort();
      shardAddrs.push(`127.0.0.1:${shardPort}`);
      const placement = ['--port', String(shardPort), '--hostname', '127.0.0.1', '--rank', String(rank), '--world-size', String(numShard), ...collective];
      supervisor.start(`shard ${rank}`, ['shard', ...shardArgs, ...placement]);
    }
    const death = supervisor.firstDeath.then((what) => {
      throw new Error(what);
    });
    death.catch(() => {});
    // The router starts beside the shards, not after them: it loads its tokenizer and listens (503
    // "warming up") while they load, then connects and warms them up itself. Ready still means /health 200.
    const routerPort = p.port === 0 ? await freePort(hostname) : p.port;
    const routerArgs = [
      '--model-id',
      model.path,
      '--port',
      String(routerPort),
      '--hostname',
      hostname,
      '--log-level',
      logLevel,
      '--shard-connect-timeout',
      String(Math.ceil(timeoutMs / 1000)),
      ...toArgv(passRouter, LAUNCH_COMMAND),
    ];
    if (p.inProcess) {
      supervisor.start(SERVER, ['serve', ...shardArgs, '--', ...routerArgs], routerEnv(p.apiKey));
    } else {
      // Stage 1: the router stops first, draining its requests; then the shards, together.
      supervisor.start('router', ['router', '--shard-uris', shardAddrs.join(','), ...routerArgs], routerEnv(p.apiKey), 1);
      await Promise.race([Promise.all(shardAddrs.map((a) => waitForShard(a, timeoutMs, death))), death]);
      logger.info({ shards: numShard }, 'shards listening');
    }
    const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${routerPort}`;
    await Promise.race([waitForRouter(url, timeoutMs, death), death]);
    logger.info({ url, model: model.path, shards: numShard, shardInProcess: p.inProcess }, 'ready');
    const shards = p.inProcess ? 'its shard in the router process' : `${numShard} shard${numShard > 1 ? 's' : ''}`;
    console.log(`Tessera is ready: ${url}  (model ${model.servedName}, ${shards})`);
    // A shard that dies is started again on its port (the router re-warms it, docs/observability.md);
    // more than --shard-restarts deaths, or the router's, end the run.
    let restarts = 0;
    const maxRestarts = p.maxRestarts;
    // With the shard in the router process, that process is the shard: it restarts in its place
    // (the router's port is closed meanwhile).
    supervisor.restartWith((name, why) => {
      if (!(name.startsWith('shard') || name === SERVER) || restarts >= maxRestarts) return false;
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
    logger.error({ err: (err as Error).message }, 'start-up failed; stopping');
    console.error(`tessera launch: start-up failed: ${(err as Error).message}`);
    await supervisor.stopAll();
    return 1;
  }
}
