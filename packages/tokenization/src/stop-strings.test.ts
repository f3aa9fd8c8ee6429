import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopStringMatcher } from './stop-strings.ts';

/** Feeds chunks; returns everything emitted (including flush when no stop matched) and the stop. */
function run(stops: string[], chunks: string[]): { out: string; stop: string | undefined; emitted: string[] } {
  const matcher = new StopStringMatcher(stops);
  const emitted: string[] = [];
  for (const chunk of chunks) {
    const r = matcher.push(chunk);
    emitted.push(r.text);
    if (r.stopped) return { out: emitted.join(''), stop: r.stop, emitted };
  }
  emitted.push(matcher.flush());
  return { out: emitted.join(''), stop: undefined, emitted };
}

test('empty stop list passes text straight through', () => {
  const m = new StopStringMatcher([]);
  assert.deepEqual(m.push('Hello'), { text: 'Hello', stopped: false });
  assert.deepEqual(m.push(''), { text: '', stopped: false });
  assert.equal(m.flush(), '');
});

test('empty stop strings are ignored', () => {
  assert.deepEqual(run([''], ['ab', 'c']), { out: 'abc', stop: undefined, emitted: ['ab', 'c', ''] });
});

test('text that cannot start a stop is emitted immediately; a possible start is held', () => {
  const m = new StopStringMatcher(['\nUser:']);
  assert.deepEqual(m.push('Hi there'), { text: 'Hi there', stopped: false });
  assert.deepEqual(m.push('!\nUs'), { text: '!', stopped: false });
  assert.deepEqual(m.push('ually'), { text: '\nUsually', stopped: false });
  assert.equal(m.flush(), '');
});

test('a stop split across three pushes is found and excluded with what follows it', () => {
  const m = new StopStringMatcher(['STOP']);
  assert.deepEqual(m.push('abc S'), { text: 'abc ', stopped: false });
  assert.deepEqual(m.push('T'), { text: '', stopped: false });
  assert.deepEqual(m.push('OP and more'), { text: '', stopped: true, stop: 'STOP' });
  assert.deepEqual(m.push('later'), { text: '', stopped: true, stop: 'STOP' });
  assert.equal(m.flush(), '');
});

test('a stop at the very start yields no text', () => {
  assert.deepEqual(run(['###'], ['###tail']), { out: '', stop: '###', emitted: [''] });
  assert.deepEqual(run(['###'], ['#', '#', '#']), { out: '', stop: '###', emitted: ['', '', ''] });
});

test('prefixes that turn out not to match are released in order', () => {
  assert.deepEqual(run(['abcd'], ['xa', 'b', 'c', 'e']), { out: 'xabce', stop: undefined, emitted: ['x', '', '', 'abce', ''] });
  // The held text itself contains the real start of the stop: "aab" → "a" released, "ab…" still possible.
  assert.deepEqual(run(['abc'], ['a', 'a', 'b', 'c']), { out: 'a', stop: 'abc', emitted: ['', 'a', '', ''] });
  // Unmatched prefix at the end is released by flush.
  assert.deepEqual(run(['</s>'], ['end</']), { out: 'end</', stop: undefined, emitted: ['end', '</'] });
});

test('overlapping stops: the first to complete wins, the longest on a tie', () => {
  // "bc" completes (at "abc") before "abcd" could.
  assert.deepEqual(run(['abcd', 'bc'], ['xabcd']), { out: 'xa', stop: 'bc', emitted: ['xa'] });
  // Both end at the same place: the longer (earlier-starting) one matches.
  assert.deepEqual(run(['bc', 'abc'], ['xabc']), { out: 'x', stop: 'abc', emitted: ['x'] });
  // One stop is a prefix of another: the shorter completes first.
  assert.deepEqual(run(['ab', 'abc'], ['a', 'bc']), { out: '', stop: 'ab', emitted: ['', ''] });
  // Stop contains a repeat of its own prefix.
  assert.deepEqual(run(['aab'], ['a', 'a', 'a', 'b', '!']), { out: 'a', stop: 'aab', emitted: ['', '', 'a', ''] });
});

test('results do not depend on how the text is chunked', () => {
  const stops = ['<|end|>', 'end.', 'd.\n', '🙂!'];
  const texts = ['the end is near <|en', 'we reached the end.\nok', 'smile 🙂 and 🙂!', 'no stop here <|e', 'ennd..\n'];
  for (const text of texts) {
    const whole = run(stops, [text]);
    const chars = run(stops, [...text]);
    const codeUnits = run(stops, text.split(''));
    const pairs = run(stops, text.match(/[\s\S]{1,2}/g) ?? []);
    for (const other of [chars, codeUnits, pairs]) {
      assert.equal(other.out, whole.out, text);
      assert.equal(other.stop, whole.stop, text);
    }
  }
  assert.equal(run(stops, ['we reached the end.\nok']).out, 'we reached the ');
  assert.equal(run(stops, ['smile 🙂 and 🙂!']).out, 'smile 🙂 and ');
});
