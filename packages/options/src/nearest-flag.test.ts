// Tests: the "did you mean" hint picks a close flag and stays quiet for unrelated ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance, nearestFlag } from './nearest-flag.ts';

const flags = ['model-id', 'port', 'hostname', 'max-total-tokens', 'max-input-tokens', 'max-batch-size'];

test('edit distance', () => {
  assert.equal(editDistance('port', 'port'), 0);
  assert.equal(editDistance('prot', 'port'), 2);
  assert.equal(editDistance('', 'abc'), 3);
});

test('typos and prefixes get a hint; unrelated names do not', () => {
  assert.equal(nearestFlag('max-totl-tokens', flags), 'max-total-tokens');
  assert.equal(nearestFlag('hostnme', flags), 'hostname');
  assert.equal(nearestFlag('model-i', flags), 'model-id');
  assert.equal(nearestFlag('max-batch', flags), 'max-batch-size');
  assert.equal(nearestFlag('foo', flags), null);
  assert.equal(nearestFlag('gpu-memory-utilization', flags), null);
});
