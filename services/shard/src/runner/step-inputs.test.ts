// @module Step inputs: padding, positions, block table, mask and slots for ragged sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceKvWrites, prepareStep } from './step-inputs.ts';

const slotOf = (blocks: ArrayLike<number>, pos: number) => blocks[Math.floor(pos / 4)]! * 4 + (pos % 4);

test('decode of two sequences with different pasts', () => {
  const s = prepareStep(
    [
      { ids: [7], start: 5, blocks: [3, 1], allLogits: false },
      { ids: [8], start: 2, blocks: [6], allLogits: false },
    ],
    4,
    slotOf,
  );
  assert.equal(s.seq, 1);
  assert.equal(s.tableBlocks, 2);
  assert.deepEqual([...s.inputIds], [7n, 8n]);
  assert.deepEqual([...s.positionIds], [5n, 2n]);
  assert.deepEqual([...s.blockTable], [3n, 1n, 6n, 0n]); // padded with block 0
  const T = 2 * 4 + 1;
  const allowed = (row: number) => [...s.attentionBias.subarray(row * T, (row + 1) * T)].map((v) => (v === 0 ? 1 : 0));
  assert.deepEqual(allowed(0), [1, 1, 1, 1, 1, 0, 0, 0, 1]);
  assert.deepEqual(allowed(1), [1, 1, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...s.slots], [1 * 4 + 1, 6 * 4 + 2]);
  assert.deepEqual([...s.logitRows], [0n, 1n]);
  assert.deepEqual(s.logitOffsets, [0, 1]);
});

test('prefill pads right, masks causally, and picks last or all rows', () => {
  const s = prepareStep(
    [
      { ids: [1, 2, 3], start: 0, blocks: [2], allLogits: false },
      { ids: [4], start: 0, blocks: [5], allLogits: true },
    ],
    4,
    slotOf,
  );
  assert.equal(s.seq, 3);
  assert.equal(s.tableBlocks, 1); // never empty: one fully masked block
  assert.deepEqual([...s.inputIds], [1n, 2n, 3n, 4n, 0n, 0n]);
  const T = 4 + 3;
  const allowed = (row: number) => [...s.attentionBias.subarray(row * T, (row + 1) * T)].map((v) => (v === 0 ? 1 : 0));
  assert.deepEqual(allowed(1), [0, 0, 0, 0, 1, 1, 0]);
  assert.deepEqual(allowed(5), [0, 0, 0, 0, 1, 1, 1]); // a padding row still sees itself
  assert.deepEqual([...s.slots], [8, 9, 10, 20, -1, -1]);
  assert.deepEqual([...s.logitRows], [2n, 3n]);
});

test('errors: no tokens, or a position past the reserved blocks', () => {
  assert.throws(() => prepareStep([], 4, slotOf));
  assert.throws(() => prepareStep([{ ids: [], start: 0, blocks: [1], allLogits: false }], 4, slotOf));
  const strict = (blocks: ArrayLike<number>, pos: number) => {
    if (Math.floor(pos / 4) >= blocks.length) throw new Error('beyond');
    return slotOf(blocks, pos);
  };
  assert.throws(() => prepareStep([{ ids: [1, 2], start: 3, blocks: [1], allLogits: false }], 4, strict), /beyond/);
});

test('device KV writes: only real rows, each to its own slot', () => {
  // Two sequences, block size 2: a decode at position 3 (blocks 4, 1) and a 2-token prompt (block 7).
  const s = prepareStep(
    [
      { ids: [9], start: 3, blocks: [4, 1], allLogits: false },
      { ids: [5, 6], start: 0, blocks: [7], allLogits: false },
    ],
    2,
    (blocks, pos) => blocks[Math.floor(pos / 2)]! * 2 + (pos % 2),
  );
  const d = deviceKvWrites(s);
  assert.equal(s.tableBlocks, 2);
  assert.deepEqual([...d.writeRows], [0n, 2n, 3n]); // row 1 is the first sequence's padding
  assert.deepEqual([...d.writeSlots], [3n, 14n, 15n]);
  assert.equal(new Set(d.writeSlots).size, d.writeSlots.length);
});
