// @module Tests: one status table, two error body dialects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerationError, OverloadedError, RouterError, ValidationError, toRouterError } from '../errors.ts';
import { dialectForPath, errorResponse, statusFor } from './error-response.ts';

test('validation is 400 invalid_request_error on OpenAI routes and 422 validation on TGI routes', () => {
  const err = new ValidationError('`temperature` must be ≥ 0', 'temperature');
  assert.deepEqual(errorResponse(err, 'openai'), {
    status: 400,
    body: { error: { message: '`temperature` must be ≥ 0', type: 'invalid_request_error', param: 'temperature', code: null } },
  });
  assert.deepEqual(errorResponse(err, 'tgi'), { status: 422, body: { error: '`temperature` must be ≥ 0', error_type: 'validation' } });
});

test("overloaded is 429 in both dialects, with TGI's exact body", () => {
  assert.deepEqual(errorResponse(new OverloadedError(), 'tgi'), { status: 429, body: { error: 'Model is overloaded', error_type: 'overloaded' } });
  assert.equal(errorResponse(new OverloadedError(), 'openai').status, 429);
});

test('generation failures are 424, not_found 404, anything unknown 500', () => {
  assert.equal(statusFor('generation', 'tgi'), 424);
  assert.equal(errorResponse(new GenerationError('shard died'), 'openai').status, 424);
  assert.equal(errorResponse(new RouterError('not_found', 'no route'), 'openai').body.error instanceof Object, true);
  assert.equal(statusFor('not_found', 'tgi'), 404);
  const internal = toRouterError(new TypeError('boom'));
  assert.equal(internal.code, 'internal');
  assert.equal(errorResponse(internal, 'tgi').status, 500);
});

test('client mistakes never map to 5xx', () => {
  for (const code of [
    'validation',
    'bad_request',
    'unsupported',
    'overloaded',
    'not_found',
    'unauthorized',
    'payload_too_large',
    'unsupported_media_type',
  ] as const) {
    assert.ok(statusFor(code, 'openai') < 500 && statusFor(code, 'tgi') < 500, code);
  }
});

test('paths under /v1 speak OpenAI, the rest TGI', () => {
  assert.equal(dialectForPath('/v1/chat/completions'), 'openai');
  assert.equal(dialectForPath('/v1'), 'openai');
  assert.equal(dialectForPath('/v1x'), 'tgi');
  assert.equal(dialectForPath('/generate'), 'tgi');
});
