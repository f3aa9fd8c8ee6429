// @module tokenizer_config.json (ChatML chat template) and generation_config.json for the generated model.

import { GENERATED_SPECIAL_TOKENS } from './tokenizer-json.ts';

const { endOfText, imStart, imEnd } = GENERATED_SPECIAL_TOKENS;

/**
 * ChatML, as Qwen2 and SmolLM write it. The `\n` inside the Jinja string literals are escapes that
 * Jinja turns into newlines (the template text holds backslash-n, like real tokenizer_config files).
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** tokenizer_config.json: no BOS is added (ChatML models start with `<|im_start|>`), EOS is `<|im_end|>`. */
export function tokenizerConfigJson(maxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: endOfText.content,
    eos_token: imEnd.content,
    pad_token: endOfText.content,
    unk_token: null,
    add_bos_token: false,
    add_eos_token: false,
    additional_special_tokens: [imStart.content, imEnd.content],
    // Byte-level BPE decodes exactly; transformers' clean-up would turn " ." into ".".
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
    chat_template: CHATML_TEMPLATE,
  };
}

/** generation_config.json: greedy by default; either `<|im_end|>` or `<|endoftext|>` ends a sequence. */
export function generationConfigJson(): Record<string, unknown> {
  return {
    bos_token_id: endOfText.id,
    eos_token_id: [imEnd.id, endOfText.id],
    pad_token_id: endOfText.id,
    transformers_version: '4.44.0',
  };
}
