// @module Looking up special tokens (strings or {content} objects) in a parsed tokenizer.json.

/** `"<s>"` or `{ "content": "<s>", … }` (tokenizer_config / special_tokens_map styles) → the string. */
export function specialTokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** A token's id from tokenizer.json's added_tokens or model vocab (BPE/WordPiece map or Unigram list). */
export function tokenIdOf(tokenizerJson: Record<string, unknown>, token: string): number | undefined {
  const added = tokenizerJson['added_tokens'];
  if (Array.isArray(added)) {
    for (const entry of added as { id?: unknown; content?: unknown }[]) {
      if (entry.content === token && typeof entry.id === 'number') return entry.id;
    }
  }
  const vocab = (tokenizerJson['model'] as { vocab?: unknown } | undefined)?.vocab;
  if (Array.isArray(vocab)) {
    const index = vocab.findIndex((entry) => Array.isArray(entry) && entry[0] === token);
    return index >= 0 ? index : undefined;
  }
  if (vocab && typeof vocab === 'object') {
    const id = (vocab as Record<string, unknown>)[token];
    return typeof id === 'number' ? id : undefined;
  }
  return undefined;
}

/** An id field that may be an int or a list of ints (config.json / generation_config.json eos_token_id). */
export function tokenIdList(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is number => Number.isInteger(v) && (v as number) >= 0);
}
