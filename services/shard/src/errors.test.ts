// @module Shard error codes: the status table against grpc-js, names in messages, codes carried from any thrown value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grpc } from '@tessera/protocol';
import {
  CollectiveError,
  codeOf,
  GrpcStatus,
  grpcStatusOf,
  InvalidRequestError,
  NotWarmedUpError,
  RunnerUnavailableError,
  ShardConfigError,
  ShardError,
  ShardErrorCode,
} from './errors.ts';

test('the written-out statuses are grpc-js’s', () => {
  for (const [name, value] of Object.entries(GrpcStatus)) assert.equal(value, grpc.status[name as keyof typeof grpc.status], name);
});

test('what the router sees per failure: invalid → INVALID_ARGUMENT, not warmed → FAILED_PRECONDITION, runner/collective → UNAVAILABLE', () => {
  assert.equal(new InvalidRequestError('x').grpcCode, grpc.status.INVALID_ARGUMENT);
  assert.equal(new NotWarmedUpError('x').grpcCode, grpc.status.FAILED_PRECONDITION);
  assert.equal(new RunnerUnavailableError('x').grpcCode, grpc.status.UNAVAILABLE);
  assert.equal(new CollectiveError('x').grpcCode, grpc.status.UNAVAILABLE);
  assert.equal(new CollectiveError('x', ShardErrorCode.CollectiveTimeout).grpcCode, grpc.status.UNAVAILABLE);
  assert.equal(new ShardError(ShardErrorCode.Internal, 'x').grpcCode, grpc.status.INTERNAL);
  for (const code of Object.values(ShardErrorCode)) assert.ok(Number.isInteger(grpcStatusOf(code)), code);
});

test('errors keep their names in text and their codes across the runner thread', () => {
  assert.equal(String(new ShardConfigError('--port must be a number')), 'ShardConfigError: --port must be a number');
  const e = new CollectiveError('peer gone');
  assert.ok(e instanceof ShardError && e instanceof Error);
  assert.equal(codeOf(e), 'COLLECTIVE');
  assert.equal(codeOf(new Error('onnxruntime failed')), 'INTERNAL');
  assert.equal(codeOf('a string'), 'INTERNAL');
  // The runner client rebuilds a thread's error from its code: the status survives the crossing.
  assert.equal(new ShardError(codeOf(new InvalidRequestError('bad id')), 'bad id').grpcCode, grpc.status.INVALID_ARGUMENT);
});
