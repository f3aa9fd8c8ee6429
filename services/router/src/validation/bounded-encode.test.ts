// @module Tests: encodeBounded tokenizes what fits in full, and proves a huge text too long from short prefixes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CUT_MARGIN_TOKENS, encodeBounded } from './bounded-encode.ts';

/** A whitespace "tokenizer" that records how many characters it was asked to encode. */
function wordEncoder() {
  const seen = { chars: 0, calls: 0 };
  const encode = (text: string) => {
    seen.chars += text.length;
    seen.calls++;
    return text
      .split(' ')
      .filter(Boolean)
      .map((w) => w.length);
  };
  return { encode, seen };
}

test('a text that fits is tokenized in full (short ones in one call)', () => {
  const { encode, seen } = wordEncoder();
  assert.deepEqual(encodeBounded(encode, 'a bb ccc', 10), { ids: [1, 2, 3] });
  assert.equal(seen.calls, 1);
  const long = 'ab '.repeat(9000); // 9,000 tokens in 27,000 chars: past the first probe ((100 + 64) × 8 chars)
  const r = encodeBounded(encode, long, 10_000);
  assert.ok('ids' in r && r.ids.length === 9000);
});

test('a huge text is refused after tokenizing about twice the prefix that proves it, not all of it', () => {
  const { encode, seen } = wordEncoder();
  const huge = 'a '.repeat(5_000_000); // 10 M chars, 5 M tokens
  const r = encodeBounded(encode, huge, 1000);
  assert.ok('tooLong' in r);
  assert.ok(r.atLeast > 1000, `${r.atLeast}`);
  assert.ok(seen.chars < 40_000, `encoded ${seen.chars} chars`);
});

test('token-sparse text is probed by doubling prefixes until one proves it too long', () => {
  const { encode, seen } = wordEncoder();
  const sparse = `${'x'.repeat(200)} `.repeat(10_000); // 2 M chars, 10 k tokens
  const r = encodeBounded(encode, sparse, 100);
  assert.ok('tooLong' in r);
  // Needs > 164 tokens ≈ 33 k chars; doubling probes stay within ~4× of that.
  assert.ok(seen.chars < 4 * 201 * (100 + CUT_MARGIN_TOKENS + 1), `encoded ${seen.chars} chars`);
});
