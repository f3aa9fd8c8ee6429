// @module Stopping: stop ids respect min_new_tokens; max_new_tokens gives LENGTH; EOS wins ties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoppingCriteria } from './stopping.ts';

test('stop token ends with EOS_TOKEN, max_new_tokens with LENGTH', () => {
  const s = new StoppingCriteria({ maxNewTokens: 3, stopTokenIds: [2, 9], minNewTokens: 0 });
  assert.equal(s.check(5, 1), 'FINISH_REASON_UNSPECIFIED');
  assert.equal(s.check(9, 2), 'FINISH_REASON_EOS_TOKEN');
  assert.equal(s.check(5, 3), 'FINISH_REASON_LENGTH');
  assert.equal(s.check(2, 3), 'FINISH_REASON_EOS_TOKEN');
});

test('min_new_tokens suppresses stop ids until reached', () => {
  const s = new StoppingCriteria({ maxNewTokens: 10, stopTokenIds: [2], minNewTokens: 3 });
  assert.equal(s.suppressStops(0), true);
  assert.equal(s.suppressStops(2), true);
  assert.equal(s.suppressStops(3), false);
  assert.equal(s.check(2, 2), 'FINISH_REASON_UNSPECIFIED');
  assert.equal(s.check(2, 3), 'FINISH_REASON_EOS_TOKEN');
});

test('max_new_tokens 0 still stops after the first token', () => {
  assert.equal(new StoppingCriteria({ maxNewTokens: 0, stopTokenIds: [], minNewTokens: 0 }).check(4, 1), 'FINISH_REASON_LENGTH');
});
