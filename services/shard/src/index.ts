// @module @tessera/shard: the model shard (gRPC service over an onnxruntime step graph).
export { main, loadShard, startShard, type LoadedShard, type RunningShard } from './main.ts';
export { parseShardArgs, parseByteSize, SHARD_USAGE, SHARD_FLAGS, ShardConfigError, type ShardConfig } from './config.ts';
export { createShardHandlers, startShardServer, type BoundServer } from './server.ts';
export { RunnerClient, type RunnerThreadInit } from './runner-client.ts';
export { ShardError, ShardErrorCode, CollectiveError, ExecutionProviderError, grpcStatusOf } from './errors.ts';
export { ensureStepGraph, defaultGraphCacheDir, graphCacheKey, type CachedGraph } from './graph/graph-cache.ts';
export { graphBuilderHash } from './graph/builder-hash.ts';
export { buildLlamaStepGraph } from './graph/llama.ts';
export { STEP_IO, type ComputeType, type KvLayout } from './graph/step-io.ts';
export { OnnxGraphBuilder, ExternalDataWriter } from './graph/onnx-builder.ts';
export { ModelRunner, type StepResult } from './runner/model-runner.ts';
export { ShardEngine, type EngineOptions } from './runner/shard-engine.ts';
export { KvCache, bytesPerBlock, planNumBlocks, defaultKvBudgetBytes } from './runner/kv-cache.ts';
export { TokenChooser, logSoftmax, argmax, topN } from './sampler/sampler.ts';
export { ProcessGroup, type GroupOptions, type CollectiveStats } from './collective/group.ts';
export { parallelPlan, ShardWeights, type ParallelPlan } from './weights/shard-weights.ts';
export { checkDevice, checkDeviceCommand, type DeviceReport } from './check-device.ts';
export { missingForDevice, sessionOptionsFor, type Device } from './runner/execution-provider.ts';
