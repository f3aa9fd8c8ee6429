// @module GGUF `tokenizer.ggml.pre` → the Hugging Face pre-tokenizer its tokenizer.json has; an unknown name is refused.
//
// The regexes are the ones the families' tokenizer.json files carry (llama.cpp's llama-vocab.cpp lists the
// same per LLAMA_VOCAB_PRE_TYPE_*): a byte-level BPE split differently gives other tokens, silently.
import { ModelLoadError } from './types.ts';

const GPT2_BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
const LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** Mistral NeMo / Ministral (tekken): splits at lower → upper case, single digits. */
const TEKKEN =
  '[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';
/** o200k (Phi-4, Phi-4-mini): tekken's case split with contractions, digits in threes. */
const GPT4O =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function splitThenByteLevel(pattern: string): Record<string, unknown> {
  return {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
}

/** llama.cpp's pre-tokenizer names (convert_hf_to_gguf_update.py) and what each family's tokenizer.json does. */
const PRE_TOKENIZERS: Record<string, () => Record<string, unknown>> = {
  // GPT-2's own regex inside ByteLevel; OLMo (GPT-NeoX) uses the same one.
  default: () => GPT2_BYTE_LEVEL,
  'gpt-2': () => GPT2_BYTE_LEVEL,
  gpt2: () => GPT2_BYTE_LEVEL,
  olmo: () => GPT2_BYTE_LEVEL,
  // Llama 3 (and SmolLM3, which uses its tokenizer), and the cl100k-style ones llama.cpp maps to the same regex (OLMo 2, DBRX).
  'llama-bpe': () => splitThenByteLevel(LLAMA3),
  llama3: () => splitThenByteLevel(LLAMA3),
  'llama-v3': () => splitThenByteLevel(LLAMA3),
  'smaug-bpe': () => splitThenByteLevel(LLAMA3),
  dbrx: () => splitThenByteLevel(LLAMA3),
  // Qwen2 / Qwen2.5 / Qwen3: single digits.
  qwen2: () => splitThenByteLevel(QWEN2),
  // SmolLM (1/2): digits split one by one before GPT-2's byte level.
  smollm: () => ({ type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, GPT2_BYTE_LEVEL] }),
  tekken: () => splitThenByteLevel(TEKKEN),
  'gpt-4o': () => splitThenByteLevel(GPT4O),
};

export const SUPPORTED_GGUF_PRE_TOKENIZERS = Object.keys(PRE_TOKENIZERS);

/** `tokenizer.ggml.pre` → the HF pre-tokenizer (absent: GPT-2's); an unknown name is a ModelLoadError, not a guess. */
export function byteLevelPreTokenizer(pre: string | undefined, label: string): Record<string, unknown> {
  const build = PRE_TOKENIZERS[pre ?? 'default'];
  if (!build) {
    throw new ModelLoadError(
      label,
      `metadata "tokenizer.ggml.pre" value "${pre}" is not supported: its text would be split differently from the model's tokenizer.json (supported: ${SUPPORTED_GGUF_PRE_TOKENIZERS.join(', ')})`,
    );
  }
  return build();
}
