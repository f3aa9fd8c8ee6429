// @module The shard's failures: a closed set of codes, one class per failure, and the one table that maps a code to its gRPC status.

/** gRPC status codes (grpc-js `status`), written out so the runner thread needn't load grpc-js; errors.test.ts checks them. */
export const GrpcStatus = { INVALID_ARGUMENT: 3, FAILED_PRECONDITION: 9, INTERNAL: 13, UNAVAILABLE: 14 } as const;

export const ShardErrorCode = {
  /** The router sent something this shard cannot serve (bad ids, unknown batch, too few blocks). */
  InvalidRequest: 'INVALID_REQUEST',
  /** A step before Warmup allocated the KV cache. */
  NotWarmedUp: 'NOT_WARMED_UP',
  /** The runner thread is gone, or a new tensor-parallel group is forming. */
  RunnerUnavailable: 'RUNNER_UNAVAILABLE',
  /** A collective failed: a peer missing, dead or out of step. */
  Collective: 'COLLECTIVE',
  /** A collective peer sent nothing within the timeout. */
  CollectiveTimeout: 'COLLECTIVE_TIMEOUT',
  /** An execution provider cannot load or run (start-up). */
  ExecutionProvider: 'EXECUTION_PROVIDER',
  /** The model cannot be split over this world size (start-up). */
  ParallelPlan: 'PARALLEL_PLAN',
  /** A bad flag or environment variable (start-up). */
  Config: 'CONFIG',
  /** Anything else: a bug or an onnxruntime failure. */
  Internal: 'INTERNAL',
} as const;
export type ShardErrorCode = (typeof ShardErrorCode)[keyof typeof ShardErrorCode];

/** How each failure reaches the router. UNAVAILABLE makes it fail the batch and probe the shard's health. */
const GRPC_STATUS: Record<ShardErrorCode, number> = {
  INVALID_REQUEST: GrpcStatus.INVALID_ARGUMENT,
  NOT_WARMED_UP: GrpcStatus.FAILED_PRECONDITION,
  RUNNER_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  COLLECTIVE: GrpcStatus.UNAVAILABLE,
  COLLECTIVE_TIMEOUT: GrpcStatus.UNAVAILABLE,
  EXECUTION_PROVIDER: GrpcStatus.INTERNAL,
  PARALLEL_PLAN: GrpcStatus.INTERNAL,
  CONFIG: GrpcStatus.INTERNAL,
  INTERNAL: GrpcStatus.INTERNAL,
};

export function grpcStatusOf(code: ShardErrorCode): number {
  return GRPC_STATUS[code];
}

export class ShardError extends Error {
  override name = 'ShardError';

  constructor(
    readonly code: ShardErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** Read by @tessera/protocol's service implementation as the call's status. */
  get grpcCode(): number {
    return grpcStatusOf(this.code);
  }
}

/** The code of any thrown value: a ShardError's own, else INTERNAL. */
export function codeOf(err: unknown): ShardErrorCode {
  return err instanceof ShardError ? err.code : ShardErrorCode.Internal;
}

/** One class per failure (for instanceof and the name in messages), each fixed to its code. */
function failure<C extends ShardErrorCode>(code: C, name: string) {
  return class extends ShardError {
    override name = name;
    constructor(message: string) {
      super(code, message);
    }
  };
}

export const InvalidRequestError = failure(ShardErrorCode.InvalidRequest, 'InvalidRequestError');
export type InvalidRequestError = InstanceType<typeof InvalidRequestError>;
export const NotWarmedUpError = failure(ShardErrorCode.NotWarmedUp, 'NotWarmedUpError');
export type NotWarmedUpError = InstanceType<typeof NotWarmedUpError>;
export const RunnerUnavailableError = failure(ShardErrorCode.RunnerUnavailable, 'RunnerUnavailableError');
export type RunnerUnavailableError = InstanceType<typeof RunnerUnavailableError>;
export const ExecutionProviderError = failure(ShardErrorCode.ExecutionProvider, 'ExecutionProviderError');
export type ExecutionProviderError = InstanceType<typeof ExecutionProviderError>;
export const ParallelPlanError = failure(ShardErrorCode.ParallelPlan, 'ParallelPlanError');
export type ParallelPlanError = InstanceType<typeof ParallelPlanError>;
export const ShardConfigError = failure(ShardErrorCode.Config, 'ShardConfigError');
export type ShardConfigError = InstanceType<typeof ShardConfigError>;

/** A collective failure; `CollectiveTimeout` when a peer sent nothing in time. */
export class CollectiveError extends ShardError {
  override name = 'CollectiveError';
  constructor(message: string, code: typeof ShardErrorCode.Collective | typeof ShardErrorCode.CollectiveTimeout = ShardErrorCode.Collective) {
    super(code, message);
  }
}
