// @module GPT-2 byte-level pre-tokenization: the regex split and the bytes→printable-unicode map.

/** The GPT-2 split pattern, as @huggingface/tokenizers' and the Rust crate's ByteLevel pre-tokenizer use it. */
export const GPT2_SPLIT_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * GPT-2's reversible map from each byte to a printable character: printable Latin-1 bytes map to
 * themselves, the other 68 to U+0100.. in byte order (so a space becomes "Ġ", a newline "Ċ").
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = new Array(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(printable(b) ? b : 256 + next++);
  }
  return table;
})();

const encoder = new TextEncoder();

/** Splits text with the GPT-2 pattern and maps each piece's UTF-8 bytes to byte-level characters. */
export function byteLevelPieces(text: string): string[] {
  const pieces = text.match(GPT2_SPLIT_PATTERN) ?? [];
  return pieces.map((piece) => {
    let out = '';
    for (const byte of encoder.encode(piece)) out += BYTE_TO_UNICODE[byte];
    return out;
  });
}
