// @module The one internal request: GenerateRequest (what an API adapter hands in) → ValidRequest (checked, defaults resolved, token ids attached).
import type { NextTokenChooserParameters } from '@tessera/protocol';
import type { ConstraintParam } from './constraints.ts';

export type Dialect = 'tgi' | 'openai';

/** The prompt as the client sent it; shapes are checked by validate(). */
export type PromptInput =
  /** TGI `inputs`: a string. */
  | { kind: 'text'; value: unknown; field: string }
  /** OpenAI completions `prompt`: a string, [string], token ids, or [token ids]. */
  | { kind: 'prompt'; value: unknown; field: string }
  /** OpenAI chat `messages`, rendered with the model's chat template. */
  | {
      kind: 'chat';
      value: unknown;
      field: string;
      addGenerationPrompt?: unknown;
      continueFinalMessage?: unknown;
      templateKwargs?: unknown;
      /** OpenAI `tools` as sent, for the template's `tools` variable (null: none). */
      tools?: unknown[] | null;
    };

/** Parameters by internal name; each API adapter maps its wire names onto these. */
export interface RawParameters {
  maxNewTokens?: unknown;
  minNewTokens?: unknown;
  temperature?: unknown;
  topK?: unknown;
  topP?: unknown;
  typicalP?: unknown;
  minP?: unknown;
  doSample?: unknown;
  seed?: unknown;
  stop?: unknown;
  repetitionPenalty?: unknown;
  frequencyPenalty?: unknown;
  presencePenalty?: unknown;
  logitBias?: unknown;
  ignoreEos?: unknown;
  /** vLLM `stop_token_ids`: extra token ids that end generation (kept with ignore_eos). */
  stopTokenIds?: unknown;
  /** vLLM `add_special_tokens`: BOS etc. around the prompt (default: true for text, false for chat). */
  addSpecialTokens?: unknown;
  n?: unknown;
  bestOf?: unknown;
  watermark?: unknown;
  details?: unknown;
  decoderInputDetails?: unknown;
  logprobs?: unknown;
  topNTokens?: unknown;
  stream?: unknown;
  includeUsage?: unknown;
  truncate?: unknown;
  returnFullText?: unknown;
}

export type ParamKey = keyof RawParameters;

export interface GenerateRequest {
  dialect: Dialect;
  input: PromptInput;
  params: RawParameters;
  /** The client's spelling of each parameter, used in error messages (default: the key). */
  fields: Partial<Record<ParamKey, string>>;
  /** Constrained output (response_format, TGI grammar, guided_*, tools), shape-checked by the adapter. */
  constraint?: ConstraintParam;
}

export interface ValidStopping {
  /** Generation ends after this many tokens (finish reason 'length'). */
  readonly maxNewTokens: number;
  /** EOS and stop token ids are ignored before this many tokens. */
  readonly minNewTokens: number;
  /** Token ids that end generation (the model's EOS ids unless ignore_eos). */
  readonly stopTokenIds: readonly number[];
  /** Strings that end generation; matched in the router, never included in the output. */
  readonly stopSequences: readonly string[];
}

export interface ValidRequest {
  readonly dialect: Dialect;
  /** The prompt as token ids (special tokens and chat template applied, truncation done). */
  readonly inputIds: readonly number[];
  /** Text prepended to generated_text when returnFullText (the client's own prompt string). */
  readonly promptText: string;
  /** Sampler parameters as sent to the shard (greedy: temperature 0, doSample false). */
  readonly parameters: Readonly<NextTokenChooserParameters>;
  readonly stopping: ValidStopping;
  /** Alternatives returned per generated token (TGI top_n_tokens, OpenAI top_logprobs). */
  readonly topNTokens: number;
  /** OpenAI chat `logprobs`: report per-token logprobs. */
  readonly logprobs: boolean;
  /** TGI `details`: report finish reason, tokens and seed. */
  readonly details: boolean;
  /** Prompt-token logprobs (TGI decoder_input_details, OpenAI completions echo + logprobs). */
  readonly promptLogprobs: boolean;
  readonly stream: boolean;
  /** OpenAI stream_options.include_usage. */
  readonly includeUsage: boolean;
  readonly returnFullText: boolean;
  /** Seed reported to the client: the sampler's seed, or null when decoding greedily. */
  readonly seed: number | null;
  /** inputIds.length + maxNewTokens: KV rows reserved for the request. */
  readonly totalTokens: number;
}
