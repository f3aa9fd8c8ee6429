// @module tokenizer.json for the generated model: chat specials, byte alphabet, trained BPE merges, reserved fill.

import { embeddedCorpusBpe, truncateBpe, type TrainedBpe } from './bpe-trainer.ts';
import { MIN_GENERATED_VOCAB } from './presets.ts';

/** Special tokens at fixed ids 0..2, whatever the vocabulary size. */
export const GENERATED_SPECIAL_TOKENS = {
  endOfText: { id: 0, content: '<|endoftext|>' },
  imStart: { id: 1, content: '<|im_start|>' },
  imEnd: { id: 2, content: '<|im_end|>' },
} as const;

export const reservedTokenContent = (n: number): string => `<|reserved_${n}|>`;

export interface GeneratedTokenizer {
  /** A tokenizer.json object (Rust `tokenizers` and @huggingface/tokenizers both load it). */
  tokenizerJson: Record<string, unknown>;
  /** Exactly the requested size; ids are 0..vocabSize-1. */
  vocabSize: number;
  /** BPE merges included. */
  mergeCount: number;
  /** How many `<|reserved_N|>` tokens filled the ids the corpus could not. */
  reservedCount: number;
}

function addedToken(id: number, content: string, special = true): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

/**
 * Layout: ids 0..2 the chat specials, 3..258 the 256 byte-level characters (byte order), then the
 * trained BPE tokens in merge order, then `<|reserved_0|>`… up to `vocabSize`. Every id is also in
 * the BPE model's vocab (as GPT-2 does for `<|endoftext|>`), so readers that only look at
 * `model.vocab` still see a dense 0..V-1 vocabulary.
 */
export function buildGeneratedTokenizer(vocabSize: number, bpe: TrainedBpe = embeddedCorpusBpe()): GeneratedTokenizer {
  if (!Number.isInteger(vocabSize) || vocabSize < MIN_GENERATED_VOCAB) {
    throw new Error(`generated tokenizer: vocabSize must be an integer ≥ ${MIN_GENERATED_VOCAB} (got ${vocabSize})`);
  }
  const specials = Object.values(GENERATED_SPECIAL_TOKENS);
  const trained = truncateBpe(bpe, vocabSize - MIN_GENERATED_VOCAB);
  const reservedCount = vocabSize - MIN_GENERATED_VOCAB - trained.newTokens.length;

  const ordered: string[] = [
    ...specials.map((s) => s.content),
    ...trained.alphabet,
    ...trained.newTokens,
    ...Array.from({ length: reservedCount }, (_, n) => reservedTokenContent(n)),
  ];
  const vocab: Record<string, number> = {};
  ordered.forEach((token, id) => {
    if (Object.hasOwn(vocab, token)) throw new Error(`generated tokenizer: duplicate token ${JSON.stringify(token)}`);
    vocab[token] = id;
  });

  const addedTokens = [
    ...specials.map((s) => addedToken(s.id, s.content)),
    // Not special: an untrained model picks them often, and skipping special tokens in the output
    // would leave benchmark streams with no visible text at all.
    ...Array.from({ length: reservedCount }, (_, n) => addedToken(vocabSize - reservedCount + n, reservedTokenContent(n), false)),
  ];
  const byteLevel = (addPrefixSpace: boolean, trimOffsets: boolean) => ({
    type: 'ByteLevel',
    add_prefix_space: addPrefixSpace,
    trim_offsets: trimOffsets,
    use_regex: true,
  });

  const tokenizerJson: Record<string, unknown> = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel(false, true),
    post_processor: byteLevel(false, false),
    decoder: byteLevel(true, true),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      // "a b" strings: byte-level tokens never contain a space, and every tokenizers version reads this form.
      merges: trained.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  return { tokenizerJson, vocabSize, mergeCount: trained.merges.length, reservedCount };
}
