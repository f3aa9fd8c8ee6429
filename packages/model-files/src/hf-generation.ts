// @module generation_config.json → GenerationDefaults, and BOS/EOS resolution across an HF directory's files.

import { specialTokenContent, tokenIdList, tokenIdOf } from './special-tokens.ts';
import type { GenerationDefaults, TokenizerFiles } from './types.ts';

/** Normalises generation_config.json (snake_case, eos int or list); unknown or ill-typed fields are dropped. */
export function parseGenerationConfig(json: Record<string, unknown>): GenerationDefaults {
  const defaults: GenerationDefaults = {};
  const num = (key: string): number | undefined => (typeof json[key] === 'number' ? (json[key] as number) : undefined);
  const bos = tokenIdList(json['bos_token_id']);
  if (bos.length > 0) defaults.bosTokenId = bos[0];
  const eos = tokenIdList(json['eos_token_id']);
  if (eos.length > 0) defaults.eosTokenIds = eos;
  if (num('temperature') !== undefined) defaults.temperature = num('temperature');
  if (num('top_k') !== undefined) defaults.topK = num('top_k');
  if (num('top_p') !== undefined) defaults.topP = num('top_p');
  if (num('repetition_penalty') !== undefined) defaults.repetitionPenalty = num('repetition_penalty');
  if (typeof json['do_sample'] === 'boolean') defaults.doSample = json['do_sample'] as boolean;
  if (num('max_new_tokens') !== undefined) defaults.maxNewTokens = num('max_new_tokens');
  return defaults;
}

/**
 * BOS: generation_config, else config.json, else tokenizer_config's bos_token looked up in tokenizer.json.
 * EOS: the union of generation_config's, config.json's and tokenizer_config's eos_token (generation first),
 * so that generation stops on any token a file calls end-of-sequence.
 */
export function resolveSpecialIds(
  generation: GenerationDefaults,
  configJson: Record<string, unknown>,
  tokenizer: TokenizerFiles,
): { bosTokenId: number | null; eosTokenIds: number[] } {
  const lookup = (key: string): number[] => {
    const content = specialTokenContent(tokenizer.tokenizerConfig[key]);
    const id = content === undefined ? undefined : tokenIdOf(tokenizer.tokenizerJson, content);
    return id === undefined ? [] : [id];
  };
  const bosTokenId = generation.bosTokenId ?? tokenIdList(configJson['bos_token_id'])[0] ?? lookup('bos_token')[0] ?? null;
  const eos = [...(generation.eosTokenIds ?? []), ...tokenIdList(configJson['eos_token_id']), ...lookup('eos_token')];
  return { bosTokenId, eosTokenIds: [...new Set(eos)] };
}
