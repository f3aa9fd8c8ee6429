// @module GPT-2 byte-level alphabet: maps a byte-level BPE piece ("Ġthere", "æĹ") back to the bytes it encodes.

let decodeTable: Map<string, number> | null = null;

/** The inverse of GPT-2's bytes_to_unicode(): printable bytes map to themselves, the rest to U+0100 upwards. */
export function byteLevelDecodeTable(): Map<string, number> {
  if (decodeTable !== null) return decodeTable;
  const table = new Map<string, number>();
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    if (printable(b)) table.set(String.fromCharCode(b), b);
    else table.set(String.fromCharCode(256 + next++), b);
  }
  decodeTable = table;
  return table;
}

/** Whether a tokenizer.json decoder (possibly a Sequence) contains a ByteLevel step. */
export function usesByteLevel(decoder: unknown): boolean {
  if (decoder === null || typeof decoder !== 'object') return false;
  const d = decoder as { type?: unknown; decoders?: unknown };
  if (d.type === 'ByteLevel') return true;
  return d.type === 'Sequence' && Array.isArray(d.decoders) && d.decoders.some(usesByteLevel);
}
