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

test('every layer slides: blocks wholly behind the window are not gathered and their columns are masked', () => {
  // Window 6, block size 4. Decode at 13: keys 8…13 are seen, so blocks 0 and 1 (rows 0…7) are behind.
  // Prefill chunk from 9: the first query sees 4…9, so only block 0 is behind.
  const s = prepareStep(
    [
      { ids: [7], start: 13, blocks: [9, 8, 5, 3], allLogits: false },
      { ids: [1, 2], start: 9, blocks: [4, 6, 2], allLogits: true },
      { ids: [3], start: 4, blocks: [1, 0], allLogits: false },
    ],
    4,
    slotOf,
    6,
  );
  assert.equal(s.tableBlocks, 4);
  assert.deepEqual([...s.blockTable], [5n, 5n, 5n, 3n, 6n, 6n, 2n, 0n, 1n, 0n, 0n, 0n]);
  const T = 4 * 4 + 2;
  const seen = (row: number) => [...s.attentionBias.subarray(row * T, (row + 1) * T)].map((v) => (v === 0 ? 1 : 0)).join('');
  assert.equal(seen(0), '000000001111100010'); // past 8…12 (columns 0…7 masked), itself
  assert.equal(seen(2), '000011111000000010'); // past 4…8, itself
  assert.equal(seen(3), '000011111000000011'); // the chunk's second row also sees the first
  assert.equal(seen(4), '111100000000000010', 'start 4 − 6 + 1 < 0: nothing is behind');
  assert.deepEqual([...s.slots], [3 * 4 + 1, -1, 2 * 4 + 1, 2 * 4 + 2, 0 * 4 + 0, -1], 'writes still go to the true blocks');

  const full = prepareStep([{ ids: [7], start: 13, blocks: [9, 8, 5, 3], allLogits: false }], 4, slotOf);
  assert.deepEqual([...full.blockTable], [9n, 8n, 5n, 3n], 'no window (or some global layer): every block is gathered');
});
