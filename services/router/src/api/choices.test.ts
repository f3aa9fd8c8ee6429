// @module Tests: n / best_of counts, prompt splitting, stream merging and best-of ranking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../errors.ts';
import { EventChannel, type EndEvent } from '../infer/events.ts';
import type { GenerateRequest } from '../validation/valid-request.ts';
import { bestChoices, choiceCounts, mergeStreams, splitPrompts, type Finished } from './choices.ts';

const req = (params: GenerateRequest['params']): GenerateRequest => ({
  dialect: 'openai',
  input: { kind: 'prompt', value: 'x', field: 'prompt' },
  params,
  fields: { n: 'n', bestOf: 'best_of' },
});

test('choiceCounts: defaults, best_of ≥ n, limits, no best_of > n when streaming', () => {
  assert.deepEqual(choiceCounts(req({})), { n: 1, bestOf: 1 });
  assert.deepEqual(choiceCounts(req({ n: 3 })), { n: 3, bestOf: 3 });
  assert.deepEqual(choiceCounts(req({ n: 2, bestOf: 5 })), { n: 2, bestOf: 5 });
  assert.throws(
    () => choiceCounts(req({ n: 3, bestOf: 2 })),
    (e: unknown) => e instanceof ValidationError && e.param === 'best_of',
  );
  assert.throws(() => choiceCounts(req({ n: 0 })), /\[1, 16\]/);
  assert.throws(() => choiceCounts(req({ n: 1.5 })), ValidationError);
  assert.throws(() => choiceCounts(req({ bestOf: 2, stream: true })), /streaming/);
});

test('splitPrompts: several strings or id arrays split; one id array or one string stays whole', () => {
  const input = (value: unknown) => ({ kind: 'prompt' as const, value, field: 'prompt' });
  assert.deepEqual(
    splitPrompts(input(['a', 'b'])).map((p) => p.value),
    ['a', 'b'],
  );
  assert.deepEqual(
    splitPrompts(input([[1, 2], [3]])).map((p) => p.value),
    [[1, 2], [3]],
  );
  assert.deepEqual(
    splitPrompts(input([1, 2, 3])).map((p) => p.value),
    [[1, 2, 3]],
  );
  assert.deepEqual(
    splitPrompts(input(['a'])).map((p) => p.value),
    [['a']],
  );
});

const end = (cumulativeLogprob: number): EndEvent => ({
  type: 'end',
  finishReason: 'length',
  generatedText: String(cumulativeLogprob),
  generatedTokens: 1,
  seed: 1,
  inputLength: 1,
  stop: null,
  cumulativeLogprob,
  prefill: null,
  timings: { queueMs: 0, firstTokenMs: 0, inferenceMs: 0, totalMs: 0, perTokenMs: 0 },
});
const finished = (lp: number) => ({ tokens: [], end: end(lp), request: {} }) as unknown as Finished;

test('bestChoices: the n highest cumulative logprobs, best first; ties keep order', () => {
  const all = [finished(-3), finished(-1), finished(-2), finished(-1)];
  assert.deepEqual(
    bestChoices(all, 2).map((f) => f.end.cumulativeLogprob),
    [-1, -1],
  );
  assert.equal(bestChoices(all, 1)[0], all[1]);
  assert.deepEqual(bestChoices(all, 4), all);
});

test('mergeStreams interleaves events as they come and tags each with its stream', async () => {
  const a = new EventChannel();
  const b = new EventChannel();
  const seen: string[] = [];
  const reading = (async () => {
    for await (const { index, event } of mergeStreams([a, b])) seen.push(`${index}:${event.type === 'token' ? event.delta : event.type}`);
  })();
  const tok = (delta: string) => ({ type: 'token' as const, index: 0, token: { id: 1, text: delta, logprob: 0, special: false }, topTokens: [], delta });
  b.push(tok('x'));
  await new Promise((r) => setImmediate(r));
  a.push(tok('y'));
  await new Promise((r) => setImmediate(r));
  b.push(end(0));
  await new Promise((r) => setImmediate(r));
  a.push(end(0));
  await reading;
  assert.deepEqual(seen, ['1:x', '0:y', '1:end', '0:end']);
});
