// @module `tessera shard`: load the model, build/reuse its graph, start the runner thread (loadShard), then the gRPC server.
import type { Logger } from 'pino';
import { createLogger } from '@tessera/logging';
import { reportStartFailure } from '@tessera/options';
import { loadModel, summarizeWeights, withLoadTimeQuantization, type LoadedModel } from '@tessera/model-files';
import { type GrammarVocabulary, TextTokenizer } from '@tessera/tokenization';
import { graphOptionsOf, parseShardArgs, SHARD_USAGE, ShardConfigError, type ShardConfig } from './config.ts';
import { ensureStepGraph, graphWeightBytes } from './graph/graph-cache.ts';
import { RunnerSlot } from './runner-slot.ts';
import { parallelPlan } from './weights/shard-weights.ts';
import type { ShardHandlers } from '@tessera/protocol';
import { createShardHandlers, startShardServer } from './server.ts';

export interface RunningShard {
  port: number;
  client: RunnerSlot;
  /** Stops the gRPC server (graceful, bounded) and the runner thread. */
  close(): Promise<void>;
}

/** A shard's model and runner thread without a server: what `startShard` binds to gRPC, or a router calls in its own process. */
export interface LoadedShard {
  handlers: ShardHandlers;
  client: RunnerSlot;
  /** Whether the step graph came from the cache rather than being built. */
  graphReused: boolean;
  /** Stops the runner thread. */
  close(): Promise<void>;
}

/** Loads the model, builds or reuses its graph and starts the runner thread; `model` skips loading (tests pass in-memory models). */
export async function loadShard(config: ShardConfig, opts: { model?: LoadedModel; logger?: Logger } = {}): Promise<LoadedShard> {
  const logger = opts.logger ?? createLogger({ service: 'shard', level: config.logLevel, base: { rank: config.rank } });
  // --quantize int8|int4 swaps the Linear weights for RTN blocks (and the digest, so the graph cache keys on it).
  const model = withLoadTimeQuantization(opts.model ?? (await loadModel(config.modelId)), config.quantize, logger);
  const weights = summarizeWeights(model);
  logger.info(
    {
      model: config.modelId,
      format: model.format,
      architecture: model.config.architecture,
      layers: model.config.numLayers,
      weights: weights.label,
      ...(config.quantize ? { quantize: config.quantize } : {}),
    },
    'model loaded',
  );
  const graph = ensureStepGraph(model, { cacheDir: config.cacheDir, rank: config.rank, worldSize: config.worldSize, graph: graphOptionsOf(config), logger });
  const weightBytes = graphWeightBytes(graph);
  const client = await RunnerSlot.start(
    {
      onnxPath: graph.onnxPath,
      config: model.config,
      blockSize: config.blockSize,
      threads: config.threads,
      device: config.device,
      deviceId: config.deviceId,
      ...(config.worldSize > 1
        ? {
            parallel: {
              segmentPaths: graph.segmentPaths,
              kvHeads: parallelPlan(model.config, config.rank, config.worldSize).kvHeads.count,
              group: {
                rank: config.rank,
                worldSize: config.worldSize,
                masterAddr: config.masterAddr,
                masterPort: config.masterPort,
                transport: config.collectiveTransport,
                timeoutMs: config.collectiveTimeoutMs,
                rendezvousTimeoutMs: config.rendezvousTimeoutMs,
              },
            },
          }
        : {}),
      engine: {
        modelId: config.modelId,
        rank: config.rank,
        worldSize: config.worldSize,
        weights: { types: weights.label, quantized: weights.quantized, bytes: weightBytes },
        ...(config.kvCacheMemory !== null ? { kvCacheMemory: config.kvCacheMemory } : {}),
        ...(config.kvCacheFraction !== null ? { kvCacheFraction: config.kvCacheFraction } : {}),
        speculate: config.speculate,
      },
      ...(config.rank === 0 ? grammarVocabularyOf(model, logger) : {}),
    },
    logger,
  );
  if (config.worldSize > 1) logger.info({ rank: config.rank, worldSize: config.worldSize, links: client.collectiveLinks }, 'tensor-parallel group ready');
  return { handlers: withMemoryReport(createShardHandlers(client), weightBytes, logger), client, graphReused: graph.reused, close: () => client.close() };
}

/** Starts a shard for a resolved config: loadShard, then its gRPC server. */
export async function startShard(config: ShardConfig, opts: { model?: LoadedModel; logger?: Logger } = {}): Promise<RunningShard> {
  const logger = opts.logger ?? createLogger({ service: 'shard', level: config.logLevel, base: { rank: config.rank } });
  const started = Date.now();
  const shard = await loadShard(config, { ...opts, logger });
  let bound;
  try {
    bound = await startShardServer(shard.handlers, config.hostname, config.port);
  } catch (err) {
    await shard.close();
    throw new Error(`cannot listen on ${config.hostname}:${config.port}: ${(err as Error).message}`);
  }
  logger.info({ port: bound.port, hostname: config.hostname, graphReused: shard.graphReused, startupMs: Date.now() - started }, 'shard ready');
  return {
    port: bound.port,
    client: shard.client,
    close: async () => {
      await bound.shutdown();
      await shard.close();
    },
  };
}

/** After each Warmup (the KV cache is allocated then), logs weights / KV / total and the process's RSS. */
function withMemoryReport(handlers: ShardHandlers, weightBytes: number, logger: Logger): ShardHandlers {
  const mib = (n: number) => Math.round(n / 2 ** 20);
  return {
    ...handlers,
    warmup: async (req) => {
      const res = await handlers.warmup(req);
      const total = weightBytes + res.kvCacheBytes;
      logger.info(
        { weightsMiB: mib(weightBytes), kvCacheMiB: mib(res.kvCacheBytes), totalMiB: mib(total), rssMiB: mib(process.memoryUsage.rss()) },
        'memory: weights + KV cache',
      );
      return res;
    },
  };
}

/** `tessera shard [flags]` (TESSERA_<FLAG> variables fill in the rest): runs until SIGTERM/SIGINT, then shuts the server down. */
export async function main(argv: string[]): Promise<void> {
  let config: ShardConfig | null;
  try {
    config = parseShardArgs(argv, process.env);
  } catch (err) {
    if (!(err instanceof ShardConfigError)) throw err;
    console.error(`tessera shard: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  if (config === null) {
    console.log(SHARD_USAGE);
    return;
  }
  const logger = createLogger({ service: 'shard', level: config.logLevel, base: { rank: config.rank } });
  let shard: RunningShard;
  try {
    shard = await startShard(config, { logger });
  } catch (err) {
    reportStartFailure('shard', config.modelId, err, config.logLevel, logger);
    process.exitCode = 1;
    return;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      shard.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  logger.info('shard stopped');
}

/** Rank 0 samples, so only it masks logits for constrained requests; a model without a usable tokenizer serves without constraints. */
function grammarVocabularyOf(model: LoadedModel, logger: Logger): { grammarVocabulary?: GrammarVocabulary } {
  try {
    return { grammarVocabulary: TextTokenizer.fromFiles(model.tokenizer).grammarVocabulary() };
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'no tokenizer for constrained decoding: requests with a grammar will be refused');
    return {};
  }
}
