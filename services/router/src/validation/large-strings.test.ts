// @module Tests: large one-byte strings lifted out of a value and put back unchanged; others left in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liftLargeStrings, restoreLargeStrings } from './large-strings.ts';

test('large Latin-1 strings are lifted as bytes and restored exactly; small and wider strings stay', () => {
  const big = 'Once upon a time, café. '.repeat(4000);
  const wide = '日本'.repeat(40_000);
  const value = { inputs: big, parameters: { stop: ['x'] }, messages: [{ role: 'user', content: big + '!' }, { content: wide }], small: 'abc' };
  const expected = structuredClone(value);
  const lifted = liftLargeStrings(value);
  assert.deepEqual(
    lifted.map((l) => l.path),
    [['inputs'], ['messages', 0, 'content']],
  );
  assert.equal(value.inputs, null);
  assert.equal(value.messages[1]!.content, wide, 'not one-byte: left as a string');
  restoreLargeStrings(value, lifted);
  assert.deepEqual(value, expected);
});
