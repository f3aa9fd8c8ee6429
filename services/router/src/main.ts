// @module `tessera router`: start-up order (model files → shards → warmup → batcher → HTTP), ready line, SIGTERM.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { loadModel, type LoadedModel } from '@tessera/model-files';
import { ChatTemplate, TextTokenizer } from '@tessera/tokenization';
import { pino, type Logger } from 'pino';
import { limitsAfterWarmup, limitsBeforeWarmup, parseRouterArgs, type RouterOptions, type TokenLimits } from './config.ts';
import { createApp } from './http/app.ts';
import type { TgiInfo } from './http/routes-tgi.ts';
import { Infer } from './infer/infer.ts';
import { RouterMetrics } from './metrics.ts';
import { Batcher } from './scheduler/batcher.ts';
import { BlockAllocator } from './scheduler/block-allocator.ts';
import { ShardedClient } from './shard-client/sharded-client.ts';
import { Validator } from './validation/validate.ts';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** How long start-up waits for every shard's gRPC channel. */
const SHARD_CONNECT_TIMEOUT_MS = 120_000;
/** How long SIGTERM waits for in-flight requests before failing them. */
const DRAIN_TIMEOUT_MS = 30_000;

export interface RunningRouter {
  /** The bound HTTP port (the real one when --port 0). */
  port: number;
  url: string;
  limits: TokenLimits;
  /** Stops accepting, lets in-flight requests finish (bounded), then closes the batcher and shard channels. */
  close(): Promise<void>;
}

/** What the router needs from the model files (a LoadedModel has it; tests pass a synthetic one). */
export type RouterModel = Pick<LoadedModel, 'tokenizer' | 'generation' | 'eosTokenIds'>;

function chatTemplateOf(model: RouterModel, file: string | null, logger: Logger): { template: ChatTemplate | null; error?: string } {
  // A template given on the command line must load: a typo there is a start-up error, not a 422 later.
  if (file !== null) return { template: new ChatTemplate(readFileSync(file, 'utf8')) };
  try {
    return { template: new ChatTemplate(model.tokenizer.chatTemplate) };
  } catch (err) {
    logger.warn({ reason: (err as Error).message }, 'chat completions disabled');
    return { template: null, error: (err as Error).message };
  }
}

/**
 * Starts a router from resolved options; resolves once it listens. `model` defaults to loading
 * opts.modelId (only headers and tokenizer files are read; weights stay on disk).
 */
export async function startRouter(opts: RouterOptions, logger: Logger, model?: RouterModel): Promise<RunningRouter> {
  model ??= await loadModel(opts.modelId);
  const tokenizer = TextTokenizer.fromFiles(model.tokenizer);
  const chat = chatTemplateOf(model, opts.chatTemplateFile, logger);

  const shards = new ShardedClient(opts.shardUris);
  const shardInfo = await shards.connect(SHARD_CONNECT_TIMEOUT_MS);
  logger.info({ shards: shards.uris, model: shardInfo.modelId, dtype: shardInfo.dtype, device: shardInfo.deviceType }, 'shards connected');
  const before = limitsBeforeWarmup(opts, shardInfo.maxPositionEmbeddings);
  const warmup = await shards.warmup({
    maxBatchPrefillTokens: before.maxBatchPrefillTokens,
    maxTotalTokens: before.maxTotalTokens,
    maxBatchSize: before.maxBatchSize ?? 0,
  });
  const limits = limitsAfterWarmup(opts, before, warmup.numBlocks * warmup.blockSize);
  logger.info({ ...limits, numBlocks: warmup.numBlocks, blockSize: warmup.blockSize, kvCacheBytes: warmup.kvCacheBytes }, 'warmup done');

  const metrics = new RouterMetrics({ defaultMetrics: true });
  const allocator = new BlockAllocator({ numBlocks: warmup.numBlocks, blockSize: warmup.blockSize, prefixCaching: opts.prefixCaching });
  const batcher = new Batcher({ shards, allocator, metrics, logger, limits: { ...limits, waitingServedRatio: opts.waitingServedRatio, maxWaitingTokens: opts.maxWaitingTokens } });
  const validator = new Validator({
    tokenizer,
    chatTemplate: chat.template,
    chatTemplateError: chat.error,
    limits,
    eosTokenIds: model.eosTokenIds,
    generation: model.generation,
  });
  const infer = new Infer({ validator, batcher, tokenizer, maxConcurrentRequests: opts.maxConcurrentRequests, metrics });
  const info: TgiInfo = {
    model_id: opts.modelId,
    model_sha: null,
    model_dtype: shardInfo.dtype,
    model_device_type: shardInfo.deviceType,
    model_pipeline_tag: 'text-generation',
    max_concurrent_requests: opts.maxConcurrentRequests,
    max_best_of: 1,
    max_stop_sequences: 4,
    max_input_tokens: limits.maxInputTokens,
    max_total_tokens: limits.maxTotalTokens,
    waiting_served_ratio: opts.waitingServedRatio,
    max_batch_total_tokens: limits.maxBatchTotalTokens,
    max_waiting_tokens: opts.maxWaitingTokens,
    max_batch_size: limits.maxBatchSize,
    max_batch_prefill_tokens: limits.maxBatchPrefillTokens,
    validation_workers: 1,
    max_client_batch_size: opts.maxClientBatchSize,
    router: 'tessera',
    version: VERSION,
    sha: process.env.TESSERA_GIT_SHA ?? null,
    docker_label: process.env.TESSERA_DOCKER_LABEL ?? null,
  };
  let closing = false;
  const app = createApp({
    infer,
    tokenizer,
    info,
    metrics,
    logger,
    servedModelName: opts.servedModelName,
    fingerprint: `tessera-${VERSION}`,
    createdAt: Math.floor(Date.now() / 1000),
    maxModelLen: limits.maxTotalTokens,
    tokenBytes: (id) => tokenizer.tokenBytes(id),
    health: async () => {
      if (closing) return { ok: false, reason: 'shutting down' };
      try {
        await shards.health();
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: (err as Error).message };
      }
    },
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port, opts.hostname, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.hostname.includes(':') ? `[${opts.hostname}]` : opts.hostname}:${port}`;
  logger.info({ port, url, model: opts.servedModelName }, `router ready on ${url}`);

  return {
    port,
    url,
    limits,
    close: async () => {
      if (closing) return;
      closing = true;
      infer.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.race([infer.idle(), new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS).unref())]);
      await batcher.close();
      server.closeAllConnections();
      await closed;
      shards.close();
      logger.info('router stopped');
    },
  };
}

/** `tessera router …` */
export async function main(argv: string[]): Promise<void> {
  const opts = parseRouterArgs(argv);
  const logger = pino({ level: opts.logLevel, name: 'router' });
  const router = await startRouter(opts, logger);
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
