// @module Prompt-lookup drafting: longest n-gram first, latest occurrence, bounded length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proposeDraft } from './prompt-lookup.ts';

test('the tokens after the latest earlier occurrence of the last trigram', () => {
  // "1 2 3" occurs at 0 and 5; the latest earlier one (5) is followed by 9 8.
  assert.deepEqual(proposeDraft([1, 2, 3, 4, 5, 1, 2, 3, 9, 8, 7, 1, 2, 3], 4), [9, 8, 7, 1]);
  assert.deepEqual(proposeDraft([1, 2, 3, 4, 5, 1, 2, 3, 9, 8, 7, 1, 2, 3], 2), [9, 8], 'at most maxTokens');
});

test('falls back to bigrams, then single tokens', () => {
  assert.deepEqual(proposeDraft([7, 2, 3, 4, 6, 2, 3], 3), [4, 6, 2], 'bigram 2 3');
  assert.deepEqual(proposeDraft([5, 9, 1, 6, 3, 5], 3), [9, 1, 6], 'unigram 5');
});

test('a match one period back in a loop drafts the loop on, past the tokens that exist', () => {
  assert.deepEqual(proposeDraft([4, 4], 3), [4, 4, 4]);
  assert.deepEqual(proposeDraft([9, 1, 2, 1, 2, 1, 2], 5), [1, 2, 1, 2, 1], 'trigram 2 1 2 two back');
  assert.deepEqual(proposeDraft([1, 2, 3, 8, 1, 2, 3], 6), [8, 1, 2, 3, 8, 1]);
});

test('no draft without a match, with a single token, or with no room', () => {
  assert.deepEqual(proposeDraft([1, 2, 3, 4], 4), []);
  assert.deepEqual(proposeDraft([1], 4), []);
  assert.deepEqual(proposeDraft([1, 1, 1], 0), []);
});
