// @module @tessera/router: the router's public surface (CLI entry, programmatic start, building blocks for tests).
export { main, startRouter, VERSION, type RunningRouter, type RouterModel } from './main.ts';
export { parseRouterArgs, routerHelp, ROUTER_OPTIONS, limitsBeforeWarmup, limitsAfterWarmup, type RouterOptions, type TokenLimits } from './config.ts';
export { RouterError, ValidationError, OverloadedError, GenerationError, UnsupportedError, InvalidArgumentError, type ErrorCode } from './errors.ts';
export { RouterMetrics } from './metrics.ts';
export { createApp, type AppDeps } from './http/app.ts';
export { Infer, type InferOptions, type InferStream } from './infer/infer.ts';
export type { StreamEvent, TokenEvent, EndEvent, ErrorEvent, TokenInfo, FinishReason } from './infer/events.ts';
export { Validator, type ValidatorDeps, type ValidationLimits } from './validation/validate.ts';
export type { GenerateRequest, ValidRequest } from './validation/valid-request.ts';
export { Batcher, type BatcherOptions, type GenerationSink } from './scheduler/batcher.ts';
export { BlockAllocator, type BlockAllocation, type BlockAllocatorStats } from './scheduler/block-allocator.ts';
export { Queue } from './scheduler/queue.ts';
export { ShardClient, ShardError, type ShardConnection } from './shard-client/shard-client.ts';
export { InProcessShard } from './shard-client/in-process-shard.ts';
export { ShardedClient, type ShardApi } from './shard-client/sharded-client.ts';
