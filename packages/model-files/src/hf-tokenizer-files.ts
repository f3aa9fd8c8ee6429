// @module An HF directory's tokenizer material: tokenizer.json, tokenizer_config.json, special tokens, chat template.

import { readJsonObject, readTextFile } from './json-file.ts';
import { ModelLoadError, type TokenizerFiles } from './types.ts';

const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const;

/**
 * tokenizer_config.json's `chat_template`: a string, or a list of {name, template} (the "default" one is
 * used, else the first). Returns null when there is none.
 */
export function pickChatTemplate(value: unknown, file = 'tokenizer_config.json'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value as { name?: unknown; template?: unknown }[];
    const chosen = named.find((t) => t.name === 'default') ?? named[0];
    if (chosen === undefined) return null;
    if (typeof chosen.template !== 'string') {
      throw new ModelLoadError(file, `field "chat_template" entry ${JSON.stringify(chosen.name)} has no string "template"`);
    }
    return chosen.template;
  }
  throw new ModelLoadError(file, 'field "chat_template" must be a string or a list of {name, template}');
}

/**
 * Reads the tokenizer files. tokenizer.json is required. special_tokens_map.json fills special tokens that
 * tokenizer_config.json lacks. chat_template.jinja (or chat_template.json) overrides the config's template.
 */
export function readHfTokenizerFiles(dir: string): TokenizerFiles {
  const tokenizerJson = readJsonObject(dir, 'tokenizer.json', true);
  const tokenizerConfig = readJsonObject(dir, 'tokenizer_config.json') ?? {};
  const specialTokensMap = readJsonObject(dir, 'special_tokens_map.json') ?? {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    if (tokenizerConfig[key] === undefined && specialTokensMap[key] !== undefined) tokenizerConfig[key] = specialTokensMap[key];
  }
  let chatTemplate = pickChatTemplate(tokenizerConfig['chat_template']);
  const templateJson = readJsonObject(dir, 'chat_template.json');
  if (templateJson) chatTemplate = pickChatTemplate(templateJson['chat_template'], 'chat_template.json') ?? chatTemplate;
  const jinja = readTextFile(dir, 'chat_template.jinja');
  if (jinja !== undefined) chatTemplate = jinja;
  return { tokenizerJson, tokenizerConfig, chatTemplate };
}
