// @module One status table for every error code, and the two error body dialects (OpenAI, TGI).
import type { ErrorCode, RouterError } from '../errors.ts';

export type ApiDialect = 'openai' | 'tgi';

/**
 * code → HTTP status per dialect. OpenAI reports invalid requests as 400 (its clients expect
 * BadRequestError); TGI reports them as 422. Generation failures are 424 on both (TGI's choice;
 * it also keeps OpenAI clients from blindly retrying a request that broke a shard).
 */
const STATUS: Record<ErrorCode, Record<ApiDialect, number>> = {
  validation: { openai: 400, tgi: 422 },
  bad_request: { openai: 400, tgi: 422 },
  unsupported: { openai: 400, tgi: 422 },
  overloaded: { openai: 429, tgi: 429 },
  generation: { openai: 424, tgi: 424 },
  not_found: { openai: 404, tgi: 404 },
  unavailable: { openai: 503, tgi: 503 },
  internal: { openai: 500, tgi: 500 },
};

/** OpenAI `error.type` per code. */
const OPENAI_TYPE: Record<ErrorCode, string> = {
  validation: 'invalid_request_error',
  bad_request: 'invalid_request_error',
  unsupported: 'invalid_request_error',
  overloaded: 'overloaded_error',
  generation: 'server_error',
  not_found: 'invalid_request_error',
  unavailable: 'server_error',
  internal: 'server_error',
};

/** TGI `error_type` per code (TGI's own names where it has one). */
const TGI_TYPE: Record<ErrorCode, string> = {
  validation: 'validation',
  bad_request: 'validation',
  unsupported: 'validation',
  overloaded: 'overloaded',
  generation: 'generation',
  not_found: 'not_found',
  unavailable: 'unhealthy',
  internal: 'internal',
};

export function statusFor(code: ErrorCode, dialect: ApiDialect): number {
  return STATUS[code][dialect];
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface TgiErrorBody {
  error: string;
  error_type: string;
}

export function openAIErrorBody(err: RouterError): OpenAIErrorBody {
  const code = err.code === 'not_found' ? 'unknown_url' : err.code === 'overloaded' ? 'overloaded' : null;
  return { error: { message: err.message, type: OPENAI_TYPE[err.code], param: err.param, code } };
}

export function tgiErrorBody(err: RouterError): TgiErrorBody {
  return { error: err.message, error_type: TGI_TYPE[err.code] };
}

/** Status and body for an error in the given dialect. */
export function errorResponse(
  err: RouterError,
  dialect: ApiDialect,
): { status: number; body: OpenAIErrorBody | TgiErrorBody } {
  const body = dialect === 'openai' ? openAIErrorBody(err) : tgiErrorBody(err);
  return { status: statusFor(err.code, dialect), body };
}

/** Which dialect a path speaks: everything under /v1/ is OpenAI, the rest TGI. */
export function dialectForPath(path: string): ApiDialect {
  return path === '/v1' || path.startsWith('/v1/') ? 'openai' : 'tgi';
}
