// @module Small hand-built tokenizer.json files (SentencePiece byte-fallback BPE, GPT-2 byte-level BPE) for tests.
import type { TokenizerFiles } from '@tessera/model-files';
import { byteLevelDecodeTable } from '@tessera/tokenization';

const hex = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

function addedToken(id: number, content: string): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** Vocabulary = base pieces in order, then every merge's result; returns piece → id. */
function buildVocab(base: string[], merges: [string, string][]): Record<string, number> {
  const vocab: Record<string, number> = {};
  for (const piece of [...base, ...merges.map(([a, b]) => a + b)]) if (!(piece in vocab)) vocab[piece] = Object.keys(vocab).length;
  return vocab;
}

export interface SentencePieceOptions {
  /** Use a TemplateProcessing post-processor adding <s> (true, like stories260K) or none at all (false). */
  postProcessor?: boolean;
  addBosToken?: boolean;
  addEosToken?: boolean;
}

/**
 * Llama-2 style: <unk>=0, <s>=1, </s>=2, byte tokens <0x00>..<0xFF> = 3..258, then letters, "é" and a few merges;
 * characters outside the vocabulary ("日本", "🙂") are spelled with byte tokens.
 */
export function syntheticSentencePieceFiles(opts: SentencePieceOptions = {}): TokenizerFiles {
  const letters = [...'▁abcdefghijklmnopqrstuvwxyzHTOé,.!'];
  const merges: [string, string][] = [
    ['▁', 't'],
    ['h', 'e'],
    ['▁t', 'he'],
    ['l', 'l'],
    ['▁', 'w'],
    ['o', 'r'],
    ['▁w', 'or'],
    ['▁', 'H'],
    ['e', 'll'],
    ['▁H', 'ell'],
    ['▁Hell', 'o'],
    ['l', 'd'],
  ];
  const bytes = Array.from({ length: 256 }, (_, b) => hex(b));
  const vocab = buildVocab(['<unk>', '<s>', '</s>', ...bytes, ...letters], merges);
  const postProcessor =
    (opts.postProcessor ?? true)
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
        }
      : null;
  return {
    tokenizerJson: {
      version: '1.0',
      added_tokens: [addedToken(0, '<unk>'), addedToken(1, '<s>'), addedToken(2, '</s>')],
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Prepend', prepend: '▁' },
          { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
        ],
      },
      pre_tokenizer: null,
      post_processor: postProcessor,
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: { type: 'BPE', unk_token: '<unk>', fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
    },
    tokenizerConfig: {
      add_bos_token: opts.addBosToken ?? true,
      add_eos_token: opts.addEosToken ?? false,
      bos_token: '<s>',
      eos_token: { content: '</s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
      unk_token: '<unk>',
      clean_up_tokenization_spaces: false,
    },
    chatTemplate: null,
  };
}

/**
 * Llama-3 style GPT-2 byte-level BPE: the 256 byte symbols, a few merges (one, "æĹ", covering the first two
 * bytes of 日 only), and <|begin_of_text|> / <|end_of_text|> added by a TemplateProcessing post-processor.
 */
export function syntheticByteLevelFiles(): TokenizerFiles {
  const symbols = [...byteLevelDecodeTable().keys()];
  const merges: [string, string][] = [
    ['Ġ', 't'],
    ['h', 'e'],
    ['Ġt', 'he'],
    ['Ġ', 'w'],
    ['o', 'r'],
    ['Ġw', 'or'],
    ['æ', 'Ĺ'],
  ];
  const vocab = buildVocab(symbols, merges);
  const bos = Object.keys(vocab).length;
  const eos = bos + 1;
  vocab['<|begin_of_text|>'] = bos;
  vocab['<|end_of_text|>'] = eos;
  return {
    tokenizerJson: {
      version: '1.0',
      added_tokens: [addedToken(bos, '<|begin_of_text|>'), addedToken(eos, '<|end_of_text|>')],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: {
        type: 'Sequence',
        processors: [
          { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
          {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
            pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
            special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [bos], tokens: ['<|begin_of_text|>'] } },
          },
        ],
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', unk_token: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
    },
    tokenizerConfig: {
      bos_token: '<|begin_of_text|>',
      eos_token: '<|end_of_text|>',
      clean_up_tokenization_spaces: true,
    },
    chatTemplate: null,
  };
}
