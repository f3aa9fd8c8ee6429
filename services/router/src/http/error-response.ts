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
  unauthorized: { openai: 401, tgi: 401 },
  payload_too_large: { openai: 413, tgi: 413 },
  unsupported_media_type: { openai: 415, tgi: 415 },
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
  unauthorized: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  unsupported_media_type: 'invalid_request_error',
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
  unauthorized: 'unauthorized',
  payload_too_large: 'validation',
  unsupported_media_type: 'validation',
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

/** OpenAI `error.code` where OpenAI has one (its clients branch on `invalid_api_key`). */
const OPENAI_CODE: Partial<Record<ErrorCode, string>> = {
  not_found: 'unknown_url',
  overloaded: 'overloaded',
  unauthorized: 'invalid_api_key',
  payload_too_large: 'payload_too_large',
  unsupported_media_type: 'unsupported_media_type',
};

export function openAIErrorBody(err: RouterError): OpenAIErrorBody {
  const code = OPENAI_CODE[err.code] ?? null;
  return { error: { message: err.message, type: OPENAI_TYPE[err.code], param: err.param, code } };
}

export function tgiErrorBody(err: RouterError): TgiErrorBody {
  return { error: err.message, error_type: TGI_TYPE[err.code] };
}

/** Status and body for an error in the given dialect. */
export function errorResponse(err: RouterError, dialect: ApiDialect): { status: number; body: OpenAIErrorBody | TgiErrorBody } {
  const body = dialect === 'openai' ? openAIErrorBody(err) : tgiErrorBody(err);
  return { status: statusFor(err.code, dialect), body };
}

/** Which dialect a path speaks: everything under /v1/ is OpenAI, the rest TGI. */
export function dialectForPath(path: string): ApiDialect {
  return path === '/v1' || path.startsWith('/v1/') ? 'openai' : 'tgi';
}
