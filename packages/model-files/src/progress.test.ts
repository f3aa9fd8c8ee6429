// @module Tests: progress as a redrawn bar on a TTY, as throttled log lines otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, renderBar } from './progress.ts';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 120, write: (s: string) => void writes.push(s) } as unknown as NodeJS.WriteStream };
}

test('renderBar draws the done share', () => {
  assert.equal(renderBar('x', 5, 10, 'half'), `x [${'#'.repeat(15)}${'.'.repeat(15)}] 5/10  50%  half`);
  assert.equal(renderBar('x', 0, 0), `x [${'#'.repeat(30)}] 0/0 100%`);
});

test('on a TTY: the bar is redrawn in place, then one summary log line', () => {
  const { writes, stream } = fakeStream(true);
  const logged: string[] = [];
  const p = createProgress({ label: 'building graph', total: 3, stream, logger: { info: (_f, m) => void logged.push(m) } });
  for (let i = 1; i <= 3; i++) p.update(i, `layer ${i}`);
  p.finish();
  assert.equal(writes.length, 4);
  assert.ok(writes.slice(0, 3).every((w) => w.startsWith('\r') && w.includes('building graph [')));
  assert.match(writes[2]!, /3\/3 100% {2}layer 3/);
  assert.equal(writes[3], '\n');
  assert.deepEqual(logged, ['building graph: done (3/3)']);
});

test('not on a TTY: log lines, first and last always, in between throttled', () => {
  const { writes, stream } = fakeStream(false);
  const logged: { fields: Record<string, unknown>; msg: string }[] = [];
  const p = createProgress({ label: 'loading', total: 100, stream, logEveryMs: 60_000, logger: { info: (fields, msg) => void logged.push({ fields, msg }) } });
  for (let i = 1; i <= 100; i++) p.update(i, `part ${i}`);
  p.finish();
  assert.equal(writes.length, 0, 'no bar');
  assert.deepEqual(
    logged.map((l) => l.msg),
    ['loading: part 1 (1/100)', 'loading: part 100 (100/100)', 'loading: done (100/100)'],
  );
  assert.equal(typeof logged[2]!.fields.ms, 'number');
});
