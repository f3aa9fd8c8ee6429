// @module `tessera router`: start-up order (HTTP listens → model files → shards → warmup → batcher), ready line, SIGTERM drain.
import { toolFormatOf } from './api/tool-formats.ts';
import type { AddressInfo } from 'node:net';
import type { RequestListener, Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { describeFamily, loadModel, SUPPORTED_ARCHITECTURES, type LoadedModel } from '@tessera/model-files';
import { ChatTemplate, TextTokenizer } from '@tessera/tokenization';
import type { Logger } from 'pino';
import { createLogger } from '@tessera/logging';
import { reportStartFailure } from '@tessera/options';
import { limitsAfterWarmup, limitsBeforeWarmup, parseRouterArgs, routerHelp, type RouterOptions, type TokenLimits } from './config.ts';
import { InvalidArgumentError } from './errors.ts';
import { createApp } from './http/app.ts';
import { createLimitedServer } from './http/server-limits.ts';
import { accessGuards } from './http/access-guards.ts';
import { HealthMonitor } from './observability/health.ts';
import { EventLoopDelay } from './observability/event-loop-delay.ts';
import { startingApp } from './observability/starting-app.ts';
import { StatusHistory } from './observability/status-history.ts';
import { toStatsBody } from './http/routes-stats.ts';
import type { TgiInfo } from './http/routes-tgi.ts';
import { Infer } from './infer/infer.ts';
import { MAX_CHOICES } from './api/choices.ts';
import { RouterMetrics } from './metrics.ts';
import { Batcher } from './scheduler/batcher.ts';
import { BlockAllocator } from './scheduler/block-allocator.ts';
import type { ShardConnection } from './shard-client/shard-client.ts';
import { ShardedClient } from './shard-client/sharded-client.ts';
import { ShardLifecycle } from './shard-client/shard-lifecycle.ts';
import { Validator } from './validation/validate.ts';
import { EncoderPool } from './validation/prompt-encoder.ts';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** After the drain, how long responses still being written may take before their sockets are cut. */
const SOCKET_CLOSE_GRACE_MS = 2_000;

export interface RunningRouter {
  /** The bound HTTP port (the real one when --port 0). */
  port: number;
  url: string;
  limits: TokenLimits;
  /**
   * Graceful stop: new requests get 503 at once, in-flight ones may finish for up to
   * --shutdown-timeout, then the rest fail and the batcher, HTTP server and shard channels close.
   */
  close(): Promise<void>;
}

/** What the router needs from the model files (a LoadedModel has it; tests pass a synthetic one). */
export type RouterModel = Pick<LoadedModel, 'tokenizer' | 'generation' | 'eosTokenIds'> & Partial<Pick<LoadedModel, 'config'>>;

function chatTemplateOf(model: RouterModel, file: string | null, logger: Logger): { template: ChatTemplate | null; source: string | null; error?: string } {
  // A template given on the command line must load: a typo there is a start-up error, not a 422 later.
  if (file !== null) {
    const source = readFileSync(file, 'utf8');
    return { template: new ChatTemplate(source), source };
  }
  try {
    return { template: new ChatTemplate(model.tokenizer.chatTemplate), source: model.tokenizer.chatTemplate };
  } catch (err) {
    logger.warn({ reason: (err as Error).message }, 'chat completions disabled');
    return { template: null, source: null, error: (err as Error).message };
  }
}

function listen(server: Server, port: number, hostname: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Starts a router from resolved options; resolves once it is warmed up and serving. It listens from
 * the start: while the shards warm up, /health answers 503 "warming up" (not connection refused).
 * `model` defaults to loading opts.modelId (only headers and tokenizer files are read). `shards`
 * replaces --shard-uris with connections made by the caller (`tessera serve`: a shard in this process).
 */
export async function startRouter(opts: RouterOptions, logger: Logger, model?: RouterModel, shardConnections?: ShardConnection[]): Promise<RunningRouter> {
  const metrics = new RouterMetrics({ defaultMetrics: true, model: opts.servedModelName });
  const health = new HealthMonitor(metrics);
  const eventLoop = new EventLoopDelay();
  metrics.attachEventLoop(eventLoop);
  const status = new StatusHistory(metrics, () => health.phase);
  const guards = accessGuards(opts, metrics);
  let handler: RequestListener = startingApp({ health, metrics, status, guards });
  const server: Server = createLimitedServer(opts, (req, res) => handler(req, res), metrics, logger);
  await listen(server, opts.port, opts.hostname);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.hostname.includes(':') ? `[${opts.hostname}]` : opts.hostname}:${port}`;
  // Whether a key is required (never the key itself) and which origins may call from a browser.
  logger.info({ port, url, apiKey: opts.apiKey !== null, corsAllowOrigins: opts.corsAllowOrigins }, `router listening on ${url} (warming up)`);

  let shards: ShardedClient | null = null;
  let encoder: EncoderPool | undefined;
  try {
    model ??= await loadModel(opts.modelId);
    const tokenizer = TextTokenizer.fromFiles(model.tokenizer);
    const chat = chatTemplateOf(model, opts.chatTemplateFile, logger);
    // The encoder threads load (modules, tokenizer) while the shards load; they get the limits after warmup.
    encoder =
      opts.validationWorkers > 0
        ? new EncoderPool({ tokenizer: model.tokenizer, chatTemplate: chat.source, chatTemplateError: chat.error, limits: null }, opts.validationWorkers)
        : undefined;

    shards = new ShardedClient(shardConnections ?? opts.shardUris);
    const shardInfo = await shards.connect(opts.shardConnectTimeoutSeconds * 1000);
    const shardInfos = await shards.infoAll();
    logger.info(
      { shards: shards.uris, model: shardInfo.modelId, dtype: shardInfo.dtype, device: shardInfo.deviceType, weights: shardInfo.weightTypes },
      'shards connected',
    );
    const before = limitsBeforeWarmup(opts, shardInfo.maxPositionEmbeddings);
    const warmupStarted = performance.now();
    const warmupRequest = {
      maxBatchPrefillTokens: before.maxBatchPrefillTokens,
      maxTotalTokens: before.maxTotalTokens,
      maxBatchSize: before.maxBatchSize ?? 0,
    };
    const warmup = await shards.warmup(warmupRequest);
    // The instances this warmup is valid for: a shard reporting another one has restarted (shard-lifecycle.ts).
    const instanceIds = (await shards.healthEach()).map((h) => (h.ok ? h.instanceId : ''));
    const limits = limitsAfterWarmup(opts, before, warmup.numBlocks * warmup.blockSize);
    logger.info(
      {
        ...limits,
        numBlocks: warmup.numBlocks,
        blockSize: warmup.blockSize,
        kvCacheBytes: warmup.kvCacheBytes,
        ms: Math.round(performance.now() - warmupStarted),
      },
      'warmup done',
    );

    const allocator = new BlockAllocator({ numBlocks: warmup.numBlocks, blockSize: warmup.blockSize, prefixCaching: opts.prefixCaching });
    metrics.attachAllocator(allocator);
    let lifecycle: ShardLifecycle | null = null;
    const batcher = new Batcher({
      shards,
      allocator,
      metrics,
      logger,
      limits: { ...limits, waitingServedRatio: opts.waitingServedRatio, maxWaitingTokens: opts.maxWaitingTokens },
      onShardFailure: () => lifecycle?.checkNow(),
      continuousDecode: opts.continuousDecode,
      slidingWindow: shardInfo.slidingWindowAllLayers,
    });
    lifecycle = new ShardLifecycle({
      shards,
      batcher,
      warmup: { ...warmupRequest, numBlocks: warmup.numBlocks },
      instanceIds,
      onRecovered: () => allocator.forgetCachedPrefixes(),
      metrics,
      logger,
    });
    const shardLifecycle = lifecycle;
    const validator = new Validator({
      tokenizer,
      chatTemplate: chat.template,
      chatTemplateError: chat.error,
      limits,
      eosTokenIds: model.eosTokenIds,
      generation: opts.generationConfig === 'none' ? {} : model.generation,
    });
    encoder?.setLimits(limits);
    await encoder?.ready();
    const pool = encoder;
    const infer = new Infer({ validator, encoder, batcher, tokenizer, maxConcurrentRequests: opts.maxConcurrentRequests, metrics });
    const info: TgiInfo = {
      model_id: opts.modelLabel,
      served_model_name: opts.servedModelName,
      model_sha: null,
      model_dtype: shardInfo.dtype,
      model_device_type: shardInfo.deviceType,
      quantize: shardInfo.quantized ? shardInfo.weightTypes : null,
      weights: { types: shardInfo.weightTypes, quantized: shardInfo.quantized, bytes_per_shard: shardInfos.map((s) => s.weightBytes) },
      model_pipeline_tag: 'text-generation',
      model_architecture: shardInfo.architecture,
      model_features: model.config ? describeFamily(model.config) : [],
      supported_architectures: SUPPORTED_ARCHITECTURES,
      max_concurrent_requests: opts.maxConcurrentRequests,
      max_best_of: MAX_CHOICES,
      max_stop_sequences: 4,
      max_input_tokens: limits.maxInputTokens,
      max_total_tokens: limits.maxTotalTokens,
      waiting_served_ratio: opts.waitingServedRatio,
      max_batch_total_tokens: limits.maxBatchTotalTokens,
      max_waiting_tokens: opts.maxWaitingTokens,
      max_batch_size: limits.maxBatchSize,
      max_batch_prefill_tokens: limits.maxBatchPrefillTokens,
      validation_workers: opts.validationWorkers,
      max_client_batch_size: opts.maxClientBatchSize,
      speculate: shardInfo.speculate,
      router: 'tessera',
      version: VERSION,
      sha: process.env.TESSERA_GIT_SHA ?? null,
      docker_label: process.env.TESSERA_DOCKER_LABEL ?? null,
    };
    const connected = shards;
    handler = createApp({
      stats: () => toStatsBody(batcher.stats(), warmup.blockSize),
      infer,
      tokenizer,
      info,
      metrics,
      logger,
      status,
      logPrompts: opts.logPrompts,
      sseMaxBufferedBytes: opts.sseMaxBufferedBytes,
      guards,
      draining: () => health.phase === 'shutting down',
      servedModelName: opts.servedModelName,
      fingerprint: `tessera-${VERSION}`,
      createdAt: Math.floor(Date.now() / 1000),
      maxModelLen: limits.maxTotalTokens,
      tokenBytes: (id) => tokenizer.tokenBytes(id),
      toolFormat: toolFormatOf(chat.source),
      health: () => health.check(),
      ...(pool !== undefined ? { parseJson: (body: Uint8Array) => pool.parseJson(body) } : {}),
    });
    health.markReady(connected, shardLifecycle);
    status.start({
      queueSize: () => batcher.queueSize,
      runningSize: () => batcher.runningSize,
      kv: () => allocator.stats(),
      model: {
        served_model_name: opts.servedModelName,
        model_id: opts.modelLabel,
        architecture: shardInfo.architecture,
        dtype: shardInfo.dtype,
        device: shardInfo.deviceType,
        shards: connected.size,
        layers: shardInfo.numLayers,
        max_input_tokens: limits.maxInputTokens,
        max_total_tokens: limits.maxTotalTokens,
        max_batch_total_tokens: limits.maxBatchTotalTokens,
        max_batch_prefill_tokens: limits.maxBatchPrefillTokens,
        kv_blocks: warmup.numBlocks,
        block_size: warmup.blockSize,
        prefix_caching: opts.prefixCaching ? 'on' : 'off',
        continuous_decode: opts.continuousDecode ? 'on' : 'off',
        version: VERSION,
      },
    });
    eventLoop.reset();
    logger.info({ port, url, model: opts.servedModelName }, `router ready on ${url}`);

    let closing: Promise<void> | null = null;
    const drainAndStop = async () => {
      health.markShuttingDown();
      infer.close();
      const timeoutMs = opts.shutdownTimeoutSeconds * 1000;
      logger.info({ inFlight: infer.inFlight, timeoutSeconds: opts.shutdownTimeoutSeconds }, 'draining: new requests get 503');
      const drained = await Promise.race([infer.idle().then(() => true), sleep(timeoutMs).then(() => false)]);
      if (!drained) logger.warn({ inFlight: infer.inFlight }, 'shutdown timeout: failing the requests still in flight');
      await shardLifecycle.close();
      await batcher.close();
      await encoder?.close();
      status.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets become idle as their last responses (error events included) are written.
      const reaper = setInterval(() => server.closeIdleConnections(), 20);
      server.closeIdleConnections();
      await Promise.race([closed, sleep(SOCKET_CLOSE_GRACE_MS)]);
      clearInterval(reaper);
      server.closeAllConnections();
      await closed;
      connected.close();
      eventLoop.stop();
      logger.info('router stopped');
    };
    return {
      port,
      url,
      limits,
      close: () => (closing ??= drainAndStop()),
    };
  } catch (err) {
    health.markShuttingDown();
    eventLoop.stop();
    shards?.close();
    await encoder?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  }
}

/** `tessera router …`: TESSERA_<FLAG> variables fill in the flags not given. */
export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(routerHelp());
    return;
  }
  let opts: RouterOptions;
  try {
    opts = parseRouterArgs(argv, process.env);
  } catch (err) {
    // A usage error is one line for the operator, not a stack trace.
    if (!(err instanceof InvalidArgumentError)) throw err;
    console.error(`tessera router: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger({ service: 'router', level: opts.logLevel });
  let router: RunningRouter;
  try {
    router = await startRouter(opts, logger);
  } catch (err) {
    reportStartFailure('router', opts.modelId, err, opts.logLevel, logger);
    process.exitCode = 1;
    return;
  }
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    router.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
