// @module Turns a list of sequences (new tokens, past length, blocks) into the padded step-graph inputs.

export interface StepSequence {
  /** Tokens to compute this step. */
  ids: ArrayLike<number>;
  /** Position of ids[0] = tokens already in the KV cache. */
  start: number;
  /** KV blocks of the sequence, in order. */
  blocks: ArrayLike<number>;
  /** Return logits for every new token (prompt logprobs), not only the last. */
  allLogits: boolean;
}

export interface StepInputs {
  batch: number;
  seq: number;
  /** Blocks per block_table row (M); past length attended is M · blockSize. */
  tableBlocks: number;
  inputIds: BigInt64Array;
  positionIds: BigInt64Array;
  attentionBias: Float32Array;
  blockTable: BigInt64Array;
  logitRows: BigInt64Array;
  /** Per sequence, the index of its first row in the logits output. */
  logitOffsets: number[];
  /** Per padded row (b·seq + s), the pool slot its new K/V goes to, or -1 for padding. */
  slots: Int32Array;
}

/**
 * Right-pads the new tokens to the longest, gathers each sequence's past through a block table
 * padded with block 0, and masks with 0/-inf: past j < start, new s' ≤ s. Every row sees itself.
 *
 * `everyLayerWindow` > 0 (every layer slides, see everyLayerSlidingWindow): the step's first query
 * (position start) sees keys from start − window + 1 on, later ones even fewer, so the blocks wholly
 * before that are never attended. The router releases them early and another request may own them
 * now, so they must not even be gathered: their table entries point at the sequence's first block
 * still in the window, and their columns are masked here as well as by the graph's window mask.
 */
export function prepareStep(
  seqs: StepSequence[],
  blockSize: number,
  slotOf: (blocks: ArrayLike<number>, pos: number) => number,
  everyLayerWindow = 0,
): StepInputs {
  const B = seqs.length;
  if (B === 0) throw new Error('empty step');
  const S = Math.max(...seqs.map((q) => q.ids.length));
  if (S === 0) throw new Error('a sequence has no token to compute');
  const M = Math.max(1, ...seqs.map((q) => Math.ceil(q.start / blockSize)));
  const P = M * blockSize;
  const T = P + S;
  const inputIds = new BigInt64Array(B * S);
  const positionIds = new BigInt64Array(B * S);
  const attentionBias = new Float32Array(B * S * T).fill(-Infinity);
  const blockTable = new BigInt64Array(B * M);
  const slots = new Int32Array(B * S).fill(-1);
  const rows: number[] = [];
  const logitOffsets: number[] = [];

  seqs.forEach((q, b) => {
    const n = q.ids.length;
    if (n === 0) throw new Error('a sequence has no token to compute');
    const used = Math.ceil(q.start / blockSize);
    const behind = everyLayerWindow > 0 ? Math.max(0, Math.floor((q.start - everyLayerWindow + 1) / blockSize)) : 0;
    for (let m = 0; m < used; m++) blockTable[b * M + m] = BigInt(q.blocks[Math.max(m, behind)]!);
    for (let s = 0; s < S; s++) {
      const row = b * S + s;
      if (s < n) {
        inputIds[row] = BigInt(q.ids[s]!);
        positionIds[row] = BigInt(q.start + s);
        slots[row] = slotOf(q.blocks, q.start + s);
      }
      const bias = attentionBias.subarray(row * T, (row + 1) * T);
      bias.fill(0, behind * blockSize, q.start);
      bias.fill(0, P, P + s + 1);
    }
    logitOffsets.push(rows.length);
    if (q.allLogits) for (let s = 0; s < n; s++) rows.push(b * S + s);
    else rows.push(b * S + n - 1);
  });

  return {
    batch: B,
    seq: S,
    tableBlocks: M,
    inputIds,
    positionIds,
    attentionBias,
    blockTable,
    logitRows: BigInt64Array.from(rows.map(BigInt)),
    logitOffsets,
    slots,
  };
}

/** The device KV layout's writes: the computed rows and the pool slots they go to. */
export interface DeviceKvWrites {
  /** Rows (b·S + s) that hold a real token, in order. */
  writeRows: BigInt64Array;
  /** [W]: the slot each of those rows is written to (distinct, so ScatterND has no duplicates). */
  writeSlots: BigInt64Array;
}

export function deviceKvWrites(step: StepInputs): DeviceKvWrites {
  const rows: bigint[] = [];
  const slots: bigint[] = [];
  step.slots.forEach((slot, row) => {
    if (slot < 0) return;
    rows.push(BigInt(row));
    slots.push(BigInt(slot));
  });
  return { writeRows: BigInt64Array.from(rows), writeSlots: BigInt64Array.from(slots) };
}
