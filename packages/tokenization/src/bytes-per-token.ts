// @module The most UTF-8 input bytes one token can stand for: a lower bound on a text's token count without tokenizing it.

/**
 * Normalizers that never shrink the text by more than `NORMALIZATION_SHRINK`: Unicode composition and
 * case folding map at most 3 input bytes onto 1 (Hangul jamo L+V+T → a syllable, the Kelvin sign → "k"),
 * Prepend only adds, and a Replace of a literal by a literal at least as long never shrinks.
 */
const NORMALIZATION_SHRINK = 3;
const SAFE_NORMALIZERS = new Set(['NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'Prepend']);
/** Pre-tokenizers that only split or map the text, never drop any of it (Whitespace, Bert… drop spaces). */
const SAFE_PRE_TOKENIZERS = new Set(['ByteLevel', 'Metaspace', 'Digits', 'Punctuation', 'UnicodeScripts']);

type Json = Record<string, unknown> | null | undefined;

/** 1 when the normalizer cannot shrink the text, NORMALIZATION_SHRINK when it may by at most that, null when unbounded. */
function normalizerShrink(n: Json): number | null {
  if (n === null || n === undefined) return 1;
  if (n.type === 'Sequence' && Array.isArray(n.normalizers)) {
    let factor = 1;
    for (const step of n.normalizers as Json[]) {
      const f = normalizerShrink(step);
      if (f === null) return null;
      factor = Math.max(factor, f);
    }
    return factor;
  }
  if (n.type === 'Prepend') return 1;
  if (n.type === 'Replace') {
    const pattern = (n.pattern as { String?: unknown } | undefined)?.String;
    if (typeof pattern !== 'string' || typeof n.content !== 'string') return null; // a regex may match any length
    return Buffer.byteLength(n.content) >= Buffer.byteLength(pattern) ? 1 : null;
  }
  return typeof n.type === 'string' && SAFE_NORMALIZERS.has(n.type) ? NORMALIZATION_SHRINK : null;
}

function preTokenizerKeepsText(p: Json): boolean {
  if (p === null || p === undefined) return true;
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) return (p.pretokenizers as Json[]).every(preTokenizerKeepsText);
  if (p.type === 'Split') return p.behavior !== 'Removed';
  return typeof p.type === 'string' && SAFE_PRE_TOKENIZERS.has(p.type);
}

/**
 * Every token stands for at most this many input bytes, or null when no such bound holds.
 *
 * A vocabulary piece's UTF-8 length bounds the input it covers: a byte-level piece spells each input
 * byte as one 1–2-byte character, a SentencePiece "▁" (3 bytes) stands for a 1-byte space, a byte-fallback
 * piece "<0xE6>" for one byte, and an added token for its own content. The bound is then widened by what the
 * normalizer may shrink. It does not hold (null) when text can vanish or merge without limit: a normalizer
 * or pre-tokenizer that drops text (Strip, Whitespace, a regex Replace, SentencePiece's Precompiled map), an
 * unknown token fusing any run of unknown characters (fuse_unk without byte_fallback), or word-level models.
 */
export function maxBytesPerToken(tokenizerJson: Record<string, unknown>, pieces: Iterable<string>): number | null {
  const model = tokenizerJson.model as Json;
  const type = model?.type;
  if (type !== 'BPE' && type !== 'Unigram') return null;
  const byteFallback = model?.byte_fallback === true;
  // HF BPE fuses unknown runs only with fuse_unk; Unigram fuses them by default.
  const fusesUnknown = type === 'Unigram' ? model?.fuse_unk !== false : model?.fuse_unk === true;
  if (fusesUnknown && !byteFallback) return null;
  if (!preTokenizerKeepsText(tokenizerJson.pre_tokenizer as Json)) return null;
  const shrink = normalizerShrink(tokenizerJson.normalizer as Json);
  if (shrink === null) return null;
  let longest = 1;
  for (const piece of pieces) longest = Math.max(longest, Buffer.byteLength(piece));
  return longest * shrink;
}
