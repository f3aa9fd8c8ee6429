// @module Builds tokenizer.json / tokenizer_config.json equivalents from GGUF `tokenizer.ggml.*` metadata.

import type { GgufValue } from './gguf.ts';
import { byteLevelPreTokenizer } from './gguf-pre-tokenizers.ts';
import { ModelLoadError, type TokenizerFiles } from './types.ts';

/** llama.cpp token types (llama_token_type). */
export const GgufTokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/**
 * Merges for a SentencePiece BPE vocabulary, as transformers' SentencePieceExtractor derives them: every
 * split of a piece into two vocab pieces, ordered by the merged piece's score (descending; stable), and
 * within one piece by the ids of its halves.
 */
export function sentencePieceMerges(tokens: string[], scores: number[]): [string, string][] {
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (!ids.has(t)) ids.set(t, i);
  });
  const merges: { left: string; right: string; score: number }[] = [];
  tokens.forEach((piece, id) => {
    const chars = Array.from(piece); // code points, like Python's str
    const local: { left: string; right: string; score: number }[] = [];
    for (let i = 1; i < chars.length; i++) {
      const left = chars.slice(0, i).join('');
      const right = chars.slice(i).join('');
      if (ids.has(left) && ids.has(right)) local.push({ left, right, score: scores[id] ?? 0 });
    }
    local.sort((a, b) => ids.get(a.left)! - ids.get(b.left)! || ids.get(a.right)! - ids.get(b.right)!);
    merges.push(...local);
  });
  merges.sort((a, b) => b.score - a.score);
  return merges.map((m) => [m.left, m.right]);
}

function templateProcessor(bos: string | undefined, eos: string | undefined, ids: Map<string, number>): Record<string, unknown> | null {
  if (bos === undefined && eos === undefined) return null;
  const special = (token: string | undefined, typeId: number) => (token === undefined ? [] : [{ SpecialToken: { id: token, type_id: typeId } }]);
  const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const specialTokens: Record<string, unknown> = {};
  for (const token of [bos, eos]) if (token !== undefined) specialTokens[token] = { id: token, ids: [ids.get(token)], tokens: [token] };
  return {
    type: 'TemplateProcessing',
    single: [...special(bos, 0), sequence('A', 0), ...special(eos, 0)],
    pair: [...special(bos, 0), sequence('A', 0), ...special(eos, 0), ...special(bos, 1), sequence('B', 1), ...special(eos, 1)],
    special_tokens: specialTokens,
  };
}

export interface GgufTokenizer {
  files: TokenizerFiles;
  bosTokenId: number | null;
  /** eos, then end-of-turn / end-of-message tokens where the GGUF names them. */
  eosTokenIds: number[];
  warnings: string[];
}

/** Builds the tokenizer from metadata; `label` names the file in errors. */
export function ggufTokenizer(metadata: Map<string, GgufValue>, label: string): GgufTokenizer {
  const get = (key: string) => metadata.get(key);
  const modelType = get('tokenizer.ggml.model');
  if (modelType !== 'llama' && modelType !== 'gpt2') {
    const shown = modelType === undefined ? 'is missing' : `value ${JSON.stringify(modelType)} is not supported`;
    throw new ModelLoadError(label, `metadata "tokenizer.ggml.model" ${shown} (supported: llama, gpt2)`);
  }
  const tokens = get('tokenizer.ggml.tokens');
  if (!Array.isArray(tokens) || tokens.length === 0) throw new ModelLoadError(label, 'metadata "tokenizer.ggml.tokens" is missing');
  const tokenList = tokens.map(String);
  const typesRaw = get('tokenizer.ggml.token_type');
  const types = Array.isArray(typesRaw) ? typesRaw.map(Number) : tokenList.map(() => GgufTokenType.NORMAL);
  const ids = new Map<string, number>();
  tokenList.forEach((t, i) => {
    if (!ids.has(t)) ids.set(t, i);
  });
  const tokenOf = (key: string): string | undefined => {
    const id = get(key);
    return typeof id === 'number' && id >= 0 && id < tokenList.length ? tokenList[id] : undefined;
  };
  const idOf = (key: string): number | undefined => {
    const token = tokenOf(key);
    return token === undefined ? undefined : (get(key) as number);
  };
  const warnings: string[] = [];
  const isSpm = modelType === 'llama';
  const addBos = get('tokenizer.ggml.add_bos_token') ?? (isSpm || get('tokenizer.ggml.pre') === 'llama-bpe');
  const addEos = get('tokenizer.ggml.add_eos_token') ?? false;
  const bosToken = tokenOf('tokenizer.ggml.bos_token_id');
  const eosToken = tokenOf('tokenizer.ggml.eos_token_id');
  const unkToken = tokenOf('tokenizer.ggml.unknown_token_id') ?? (isSpm ? tokenList[types.indexOf(GgufTokenType.UNKNOWN)] : undefined);

  const addedTokens = tokenList.flatMap((content, id) => {
    const type = types[id];
    const special = type === GgufTokenType.CONTROL || type === GgufTokenType.UNKNOWN;
    if (!special && type !== GgufTokenType.USER_DEFINED) return [];
    return [{ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special }];
  });
  const vocab = Object.fromEntries([...ids].map(([token, id]) => [token, id]));

  let tokenizerJson: Record<string, unknown>;
  if (isSpm) {
    const scoresRaw = get('tokenizer.ggml.scores');
    const scores = Array.isArray(scoresRaw) ? scoresRaw.map(Number) : tokenList.map((_, i) => -i);
    const addSpacePrefix = get('tokenizer.ggml.add_space_prefix') !== false;
    const replaceSpace = { type: 'Replace', pattern: { String: ' ' }, content: '▁' };
    tokenizerJson = {
      normalizer: addSpacePrefix ? { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, replaceSpace] } : replaceSpace,
      pre_tokenizer: null,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: unkToken ?? null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: true,
        ignore_merges: false,
        vocab,
        merges: sentencePieceMerges(tokenList, scores),
      },
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          ...(addSpacePrefix ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
        ],
      },
    };
  } else {
    const mergesRaw = get('tokenizer.ggml.merges');
    if (!Array.isArray(mergesRaw)) throw new ModelLoadError(label, 'metadata "tokenizer.ggml.merges" is missing (needed by a gpt2 tokenizer)');
    const merges = mergesRaw.map((m) => {
      const text = String(m);
      const space = text.indexOf(' ', 1);
      if (space < 0) throw new ModelLoadError(label, `metadata "tokenizer.ggml.merges" entry ${JSON.stringify(text)} is not "left right"`);
      return [text.slice(0, space), text.slice(space + 1)];
    });
    const pre = get('tokenizer.ggml.pre');
    tokenizerJson = {
      normalizer: null,
      pre_tokenizer: byteLevelPreTokenizer(typeof pre === 'string' ? pre : undefined, label),
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: unkToken ?? null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: pre === 'llama-bpe',
        vocab,
        merges,
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    };
  }
  tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    ...tokenizerJson,
    post_processor: templateProcessor(addBos ? bosToken : undefined, addEos ? eosToken : undefined, ids),
  };

  const template = get('tokenizer.chat_template');
  const chatTemplate = typeof template === 'string' ? template : null;
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: isSpm ? 'LlamaTokenizerFast' : 'PreTrainedTokenizerFast',
    add_bos_token: Boolean(addBos),
    add_eos_token: Boolean(addEos),
    bos_token: bosToken ?? null,
    eos_token: eosToken ?? null,
    unk_token: unkToken ?? null,
    pad_token: tokenOf('tokenizer.ggml.padding_token_id') ?? null,
    clean_up_tokenization_spaces: false,
    ...(isSpm ? { legacy: true } : {}),
    ...(chatTemplate !== null ? { chat_template: chatTemplate } : {}),
  };
  const eos = ['tokenizer.ggml.eos_token_id', 'tokenizer.ggml.eot_token_id', 'tokenizer.ggml.eom_token_id']
    .map(idOf)
    .filter((id): id is number => id !== undefined);
  return {
    files: { tokenizerJson, tokenizerConfig, chatTemplate },
    bosTokenId: idOf('tokenizer.ggml.bos_token_id') ?? null,
    eosTokenIds: [...new Set(eos)],
    warnings,
  };
}
