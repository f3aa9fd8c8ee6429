// @module The router's closed set of coded errors; http/error-response.ts maps each code to a status.

/** Stable error codes. Each API renders them in its own body shape, with one status table. */
export type ErrorCode =
  /** A request field is missing, of the wrong type, or out of range. */
  | 'validation'
  /** The request body is not parseable JSON. */
  | 'bad_request'
  /** Too many requests in flight (max_concurrent_requests). */
  | 'overloaded'
  /** A shard failed while generating this request. */
  | 'generation'
  /** The request is valid but asks for something not implemented yet. */
  | 'unsupported'
  /** No such route. */
  | 'not_found'
  /** The router is shutting down or not ready. */
  | 'unavailable'
  /** A bug: never caused by the client. */
  | 'internal'
  /** No or a wrong API key (--api-key). */
  | 'unauthorized'
  /** The body is larger than the router accepts. */
  | 'payload_too_large'
  /** The body is not `application/json` in UTF-8, or its Content-Encoding is unknown. */
  | 'unsupported_media_type';

/** Base class: every error the router renders carries a code, and validation errors the field. */
export class RouterError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The request field at fault, as the client spelled it. */
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export class ValidationError extends RouterError {
  override readonly name = 'ValidationError';
  constructor(message: string, param: string | null = null) {
    super('validation', message, param);
  }
}

export class UnsupportedError extends RouterError {
  override readonly name = 'UnsupportedError';
  constructor(message: string, param: string | null = null) {
    super('unsupported', message, param);
  }
}

export class OverloadedError extends RouterError {
  override readonly name = 'OverloadedError';
  constructor(message = 'Model is overloaded') {
    super('overloaded', message);
  }
}

export class GenerationError extends RouterError {
  override readonly name = 'GenerationError';
  constructor(message: string) {
    super('generation', message);
  }
}

/** A bad command-line option or constructor argument (undici's InvalidArgumentError). */
export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';
}

/** Wraps anything thrown into a RouterError, keeping RouterErrors as they are. */
export function toRouterError(err: unknown): RouterError {
  if (err instanceof RouterError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RouterError('internal', message);
}
