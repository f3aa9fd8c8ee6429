// @module Tests of the built-in prompt set, the --prompts file formats and the request→prompt order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BUILTIN_PROMPTS, loadPrompts, parsePrompts, promptOrder } from './prompts.ts';

test('64 distinct, non-empty built-in prompts of varied length', () => {
  assert.equal(BUILTIN_PROMPTS.length, 64);
  assert.equal(new Set(BUILTIN_PROMPTS).size, 64);
  const lengths = BUILTIN_PROMPTS.map((p) => p.length);
  assert.ok(Math.min(...lengths) <= 10 && Math.max(...lengths) >= 250, `lengths ${Math.min(...lengths)}..${Math.max(...lengths)}`);
  assert.ok(Object.isFrozen(BUILTIN_PROMPTS));
});

test('parses a JSON array and JSONL of {prompt} (blank lines, CRLF and bare strings allowed)', () => {
  assert.deepEqual(parsePrompts('["a", "b c"]'), ['a', 'b c']);
  assert.deepEqual(parsePrompts('{"prompt": "x"}\r\n\n{"prompt": "y", "id": 2}\n"z"\n'), ['x', 'y', 'z']);
});

test('bad prompt files fail with the source and line', () => {
  assert.throws(() => parsePrompts('[1, "a"]', 'f.json'), /f\.json: element 0 of the JSON array is not a string/);
  assert.throws(() => parsePrompts('[', 'f.json'), /f\.json: not valid JSON/);
  assert.throws(() => parsePrompts('{"prompt": "a"}\n{"text": "b"}', 'f.jsonl'), /f\.jsonl:2: expected an object with a string "prompt" field/);
  assert.throws(() => parsePrompts('{"prompt": "a"}\nnope', 'f.jsonl'), /f\.jsonl:2: not valid JSON/);
  assert.throws(() => parsePrompts('[]', 'f.json'), /no prompts found/);
});

test('loadPrompts reads a file', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-prompts-'));
  const file = path.join(dir, 'p.jsonl');
  await writeFile(file, '{"prompt": "one"}\n{"prompt": "two"}\n');
  assert.deepEqual(await loadPrompts(file), ['one', 'two']);
});

test('promptOrder: seed 0 is i mod len; other seeds are a fixed permutation repeated', () => {
  assert.deepEqual(promptOrder(7, 3, 0), [0, 1, 2, 0, 1, 2, 0]);
  const seeded = promptOrder(10, 5, 1);
  assert.deepEqual([...seeded.slice(0, 5)].sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual(seeded.slice(5), seeded.slice(0, 5));
  assert.deepEqual(promptOrder(10, 5, 1), seeded, 'deterministic');
  assert.notDeepEqual(promptOrder(64, 64, 1), promptOrder(64, 64, 2), 'different seeds differ');
  assert.notDeepEqual(promptOrder(64, 64, 1), promptOrder(64, 64, 0));
});
