// @module validate(): the one place a GenerateRequest is checked, defaults resolved and the prompt tokenized.
import { randomInt } from 'node:crypto';
import type { GenerationDefaults } from '@tessera/model-files';
import { samplingFields } from '@tessera/protocol/sampling';
import { ChatTemplateError, type ChatMessage, type ChatTemplate, type TextTokenizer } from '@tessera/tokenization';
import { UnsupportedError, ValidationError } from '../errors.ts';
import { encodeBounded } from './bounded-encode.ts';
import type { GenerateRequest, ParamKey, PromptInput, ValidRequest } from './valid-request.ts';

export interface ValidationLimits {
  maxInputTokens: number;
  maxTotalTokens: number;
  /** Most stop strings per request (OpenAI allows 4). Default 4. */
  maxStopSequences?: number;
  /** Most alternatives per token (OpenAI top_logprobs allows 20). Default 20. */
  maxTopNTokens?: number;
}

export interface ValidatorDeps {
  tokenizer: TextTokenizer;
  /** Null when the model has no chat template (chat requests then fail with `chatTemplateError`). */
  chatTemplate: ChatTemplate | null;
  chatTemplateError?: string;
  limits: ValidationLimits;
  /** Token ids that end generation unless ignore_eos. */
  eosTokenIds: readonly number[];
  /** generation_config.json: sampling defaults for the OpenAI routes (TGI routes default to greedy, as TGI does). */
  generation?: GenerationDefaults;
}

/** Reads one parameter, naming it as the client spelled it. */
class Params {
  constructor(private readonly req: GenerateRequest) {}

  name(key: ParamKey): string {
    return this.req.fields[key] ?? key;
  }
  raw(key: ParamKey): unknown {
    const v = this.req.params[key];
    return v === null ? undefined : v;
  }
  bool(key: ParamKey): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined || typeof v === 'boolean') return v;
    throw new ValidationError(`\`${this.name(key)}\` must be a boolean`, this.name(key));
  }
  number(key: ParamKey, check: (v: number) => boolean, rule: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
      throw new ValidationError(`\`${this.name(key)}\` must be ${rule}. Given: ${JSON.stringify(v)}`, this.name(key));
    }
    return v;
  }
  int(key: ParamKey, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const rule = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
    return this.number(key, (v) => Number.isInteger(v) && v >= min && v <= max, rule);
  }
}

/** How a prompt is encoded: read from the request's parameters before tokenizing (promptOptions). */
export interface PromptOptions {
  addSpecialTokens: boolean | undefined;
  /** Keep only the last `truncate` tokens; a long prompt is then not refused by its byte length. */
  truncate: number | undefined;
}

/** A prompt's token ids and the text they came from (rendered chat, or the prompt as given). */
export interface EncodedPrompt {
  ids: number[];
  promptText: string;
  /** The request's constraint as the shards' wire grammar (Infer.encode compiles it); absent when unconstrained. */
  grammar?: string;
}

export class Validator {
  readonly #deps: ValidatorDeps;
  readonly #maxStops: number;
  readonly #maxTopN: number;

  constructor(deps: ValidatorDeps) {
    this.#deps = deps;
    this.#maxStops = deps.limits.maxStopSequences ?? 4;
    this.#maxTopN = deps.limits.maxTopNTokens ?? 20;
  }

  /** The cheap checks that come before tokenizing, and what tokenizing needs; throws ValidationError. */
  promptOptions(req: GenerateRequest): PromptOptions {
    const p = new Params(req);
    this.#rejectUnsupported(p);
    const { maxInputTokens } = this.#deps.limits;
    const truncate = p.int('truncate', 1);
    if (truncate !== undefined && truncate > maxInputTokens) {
      throw new ValidationError(`\`${p.name('truncate')}\` must be ≤ ${maxInputTokens} (max_input_tokens). Given: ${truncate}`, p.name('truncate'));
    }
    return { addSpecialTokens: p.bool('addSpecialTokens'), truncate };
  }

  /**
   * Checks `req` and resolves its defaults. `encoded` is the prompt as a PromptEncoder (worker thread)
   * tokenized it with promptOptions(req); without it the prompt is tokenized here, on this thread.
   */
  validate(req: GenerateRequest, encoded?: EncodedPrompt): ValidRequest {
    const p = new Params(req);
    const options = this.promptOptions(req);
    const { truncate } = options;
    const { maxInputTokens, maxTotalTokens } = this.#deps.limits;
    const { ids, promptText } = encoded ?? this.encodePrompt(req.input, options);
    if (ids.length === 0) throw new ValidationError(`\`${req.input.field}\` has no tokens (empty prompt without special tokens)`, req.input.field);
    const inputIds = truncate !== undefined && ids.length > truncate ? ids.slice(ids.length - truncate) : ids;
    if (inputIds.length > maxInputTokens) {
      throw new ValidationError(
        `\`${req.input.field}\` must have less than ${maxInputTokens + 1} tokens (max_input_tokens). Given: ${inputIds.length}`,
        req.input.field,
      );
    }
    const maxNew = p.int('maxNewTokens', 1);
    const maxNewTokens = maxNew ?? maxTotalTokens - inputIds.length;
    if (inputIds.length + maxNewTokens > maxTotalTokens) {
      throw new ValidationError(
        `\`${req.input.field}\` tokens + \`${p.name('maxNewTokens')}\` must be ≤ ${maxTotalTokens} (max_total_tokens). ` +
          `Given: ${inputIds.length} \`${req.input.field}\` tokens and ${maxNewTokens} \`${p.name('maxNewTokens')}\``,
        p.name('maxNewTokens'),
      );
    }
    const minNewTokens = p.int('minNewTokens', 0, maxNewTokens) ?? 0;
    const ignoreEos = p.bool('ignoreEos') ?? false;

    const logprobs = p.bool('logprobs') ?? false;
    const topNTokens = p.int('topNTokens', 0, this.#maxTopN) ?? 0;
    if (req.dialect === 'openai' && topNTokens > 0 && !logprobs && req.input.kind === 'chat') {
      throw new ValidationError(`\`${p.name('topNTokens')}\` requires \`${p.name('logprobs')}\` to be true`, p.name('topNTokens'));
    }
    const sampling = this.#sampling(req, p);
    const { seed } = sampling;
    const constraint = req.constraint;
    if (constraint !== undefined && encoded?.grammar === undefined) throw new ValidationError(`\`${constraint.field}\` was not compiled`, constraint.field);
    const parameters = encoded?.grammar !== undefined ? { ...sampling.parameters, grammar: encoded.grammar } : sampling.parameters;
    const promptLogprobs = p.bool('decoderInputDetails') ?? false;
    const stream = p.bool('stream') ?? false;
    if (promptLogprobs && stream) {
      throw new ValidationError(`\`${p.name('decoderInputDetails')}\` == true is not supported with streaming`, p.name('decoderInputDetails'));
    }
    // A constrained output ends where its grammar completes, on EOS: ignore_eos cannot apply to it.
    const eos = ignoreEos && constraint === undefined ? [] : this.#deps.eosTokenIds;
    return {
      dialect: req.dialect,
      inputIds,
      promptText,
      parameters,
      stopping: {
        maxNewTokens,
        minNewTokens,
        stopTokenIds: [...new Set([...eos, ...this.#stopTokenIds(p)])],
        stopSequences: this.#stops(p),
      },
      topNTokens,
      logprobs,
      // TGI reports details whenever decoder_input_details is asked.
      details: (p.bool('details') ?? false) || promptLogprobs,
      promptLogprobs,
      stream,
      includeUsage: p.bool('includeUsage') ?? false,
      returnFullText: p.bool('returnFullText') ?? false,
      seed,
      totalTokens: inputIds.length + maxNewTokens,
    };
  }

  /** `n` and `best_of` are fanned out into single-choice requests before validation (api/choices.ts). */
  #rejectUnsupported(p: Params): void {
    if ((p.int('n', 1) ?? 1) !== 1) throw new UnsupportedError(`\`${p.name('n')}\` must be 1 here (choices are fanned out by the API layer)`, p.name('n'));
    if ((p.int('bestOf', 1) ?? 1) !== 1)
      throw new UnsupportedError(`\`${p.name('bestOf')}\` must be 1 here (choices are fanned out by the API layer)`, p.name('bestOf'));
    if (p.bool('watermark') === true) throw new UnsupportedError(`\`${p.name('watermark')}\` is not supported`, p.name('watermark'));
  }

  #stopTokenIds(p: Params): number[] {
    const raw = p.raw('stopTokenIds');
    if (raw === undefined) return [];
    const name = p.name('stopTokenIds');
    const vocab = this.#deps.tokenizer.vocabSize;
    if (!Array.isArray(raw) || !raw.every((x) => Number.isInteger(x) && x >= 0 && x < vocab)) {
      throw new ValidationError(`\`${name}\` must be an array of token ids in [0, ${vocab - 1}]`, name);
    }
    return raw as number[];
  }

  #sampling(req: GenerateRequest, p: Params): Pick<ValidRequest, 'parameters' | 'seed'> {
    const openai = req.dialect === 'openai';
    const gen = openai ? (this.#deps.generation ?? {}) : {};
    const temperatureGiven = p.number('temperature', (v) => v >= 0, 'a number ≥ 0');
    // vLLM clients send top_k -1 (or 0) for "no top-k"; TGI wants ≥ 1.
    const topKRaw = openai ? p.int('topK', -1) : p.int('topK', 1);
    const topKGiven = topKRaw !== undefined && topKRaw <= 0 ? 0 : topKRaw;
    const topPGiven = p.number('topP', (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    const typicalPGiven = p.number('typicalP', (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    const minP = p.number('minP', (v) => v >= 0 && v <= 1, 'a number in [0, 1]') ?? 0;
    const doSample = p.bool('doSample');
    const seedGiven = p.int('seed', 0);
    const temperature = temperatureGiven ?? gen.temperature ?? 1;
    const topK = topKGiven ?? gen.topK ?? 0;
    const topP = topPGiven ?? gen.topP ?? 1;
    const typicalP = typicalPGiven ?? 1;
    // OpenAI: sample unless temperature is 0. TGI: greedy unless do_sample or a warper is set (as TGI's
    // NextTokenChooser decides); temperature 0 is greedy on both.
    const warpers = (temperatureGiven !== undefined && temperatureGiven !== 1) || topK > 0 || topP < 1 || typicalP < 1 || minP > 0;
    const sample = temperature > 0 && (openai ? true : doSample === true || warpers);
    const seed = sample ? (seedGiven ?? randomInt(0, 2 ** 32)) : null;
    return {
      seed,
      parameters: {
        ...samplingFields(sample, temperature, seed),
        topK,
        topP,
        typicalP,
        repetitionPenalty: p.number('repetitionPenalty', (v) => v > 0, 'a number > 0') ?? (openai ? (gen.repetitionPenalty ?? 1) : 1),
        frequencyPenalty: p.number('frequencyPenalty', (v) => v >= -2 && v <= 2, 'a number in [-2, 2]') ?? 0,
        presencePenalty: p.number('presencePenalty', (v) => v >= -2 && v <= 2, 'a number in [-2, 2]') ?? 0,
        minP,
        logitBias: this.#logitBias(p),
      },
    };
  }

  #stops(p: Params): string[] {
    const raw = p.raw('stop');
    if (raw === undefined) return [];
    const name = p.name('stop');
    const list = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) {
      throw new ValidationError(`\`${name}\` must be a string or an array of strings`, name);
    }
    if (list.length > this.#maxStops) {
      throw new ValidationError(`\`${name}\` must have at most ${this.#maxStops} sequences. Given: ${list.length}`, name);
    }
    if (list.some((s) => s.length === 0)) throw new ValidationError(`\`${name}\` sequences must not be empty`, name);
    return list as string[];
  }

  #logitBias(p: Params): Record<number, number> {
    const raw = p.raw('logitBias');
    if (raw === undefined) return {};
    const name = p.name('logitBias');
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError(`\`${name}\` must be an object of token id → bias`, name);
    const out: Record<number, number> = {};
    for (const [key, bias] of Object.entries(raw as Record<string, unknown>)) {
      const id = Number(key);
      if (!Number.isInteger(id) || id < 0 || id >= this.#deps.tokenizer.vocabSize) {
        throw new ValidationError(`\`${name}\` has an unknown token id '${key}' (vocabulary size ${this.#deps.tokenizer.vocabSize})`, name);
      }
      if (typeof bias !== 'number' || !(bias >= -100 && bias <= 100)) {
        throw new ValidationError(`\`${name}\` values must be numbers in [-100, 100]`, name);
      }
      out[id] = bias;
    }
    return out;
  }

  /**
   * Renders (chat) and tokenizes a prompt, the costly part of validation (a PromptEncoder runs it on a
   * worker thread). A text that cannot fit in max_input_tokens even at the tokenizer's most compact is
   * refused by its UTF-8 length before it is tokenized (unless `truncate` keeps only its tail).
   */
  encodePrompt(input: PromptInput, options: PromptOptions, limit: 'max-input-tokens' | number | null = 'max-input-tokens'): EncodedPrompt {
    const tok = this.#deps.tokenizer;
    const v = input.value;
    const maxTokens = limit === 'max-input-tokens' ? this.#deps.limits.maxInputTokens : limit;
    const encode = (text: string, addSpecialTokens: boolean): EncodedPrompt => {
      // With `truncate` a long prompt is legitimate (its tail is kept), so only then is all of it tokenized.
      if (maxTokens === null || options.truncate !== undefined) return { ids: tok.encode(text, { addSpecialTokens }), promptText: text };
      if (limit === 'max-input-tokens') this.#rejectByLength(text, input.field);
      // Where the byte-length bound cannot rule a prompt out, doubling prefixes stop tokenizing once one is too long.
      const r = encodeBounded((t) => tok.encode(t, { addSpecialTokens }), text, maxTokens);
      if ('ids' in r) return { ids: r.ids, promptText: text };
      throw new ValidationError(
        `\`${input.field}\` must have less than ${maxTokens + 1} tokens (${limit === 'max-input-tokens' ? 'max_input_tokens' : "the model's context"}). Given: more than ${r.atLeast}`,
        input.field,
      );
    };
    // The chat template writes its own BOS: special tokens are not added unless asked (as vLLM).
    if (input.kind === 'chat') return encode(this.renderChat(input), options.addSpecialTokens ?? false);
    const addSpecialTokens = options.addSpecialTokens ?? true;
    if (typeof v === 'string') {
      if (input.kind === 'text' && v.length === 0) throw new ValidationError(`\`${input.field}\` cannot be empty`, input.field);
      return encode(v, addSpecialTokens);
    }
    if (input.kind === 'prompt' && Array.isArray(v)) {
      // OpenAI accepts a string, [string], token ids, or [token ids]; one prompt per request for now.
      const one = v.length === 1 && (typeof v[0] === 'string' || Array.isArray(v[0])) ? v[0] : v;
      if (typeof one === 'string') return encode(one, addSpecialTokens);
      if (Array.isArray(one) && one.length > 0 && one.every((x) => Number.isInteger(x))) {
        const bad = one.find((x) => x < 0 || x >= tok.vocabSize);
        if (bad !== undefined) throw new ValidationError(`\`${input.field}\` has token id ${bad} outside the vocabulary (size ${tok.vocabSize})`, input.field);
        return { ids: one as number[], promptText: tok.decode(one as number[]) };
      }
      if (v.length > 1 && v.every((x) => typeof x === 'string' || Array.isArray(x))) {
        throw new ValidationError(`\`${input.field}\` holds several prompts: split them first (api/choices.ts does)`, input.field);
      }
    }
    const shape = input.kind === 'text' ? 'a string' : 'a string, an array of one string, or an array of token ids';
    throw new ValidationError(`\`${input.field}\` must be ${shape}`, input.field);
  }

  /** A prompt's token ids and text as generation would see them (before truncation); for /tokenize, refused only beyond `maxTokens`. */
  tokenizePrompt(input: PromptInput, addSpecialTokens?: boolean, maxTokens: number | null = null): EncodedPrompt {
    return this.encodePrompt(input, { addSpecialTokens, truncate: undefined }, maxTokens);
  }

  /**
   * The byte-length refusal of encodePrompt for a plain-text prompt, without rendering or tokenizing:
   * Infer runs it on the event loop (a fraction of a millisecond per MiB) so that a prompt refused
   * anyway is not first copied to a worker thread.
   */
  rejectLongText(input: PromptInput, options: PromptOptions): void {
    if (options.truncate !== undefined || input.kind === 'chat') return;
    const v = input.value;
    const text = typeof v === 'string' ? v : Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' ? v[0] : null;
    if (text !== null) this.#rejectByLength(text, input.field);
  }

  /** Tokenizing megabytes takes seconds: a text too long for max_input_tokens at any tokenization is refused from its length. */
  #rejectByLength(text: string, field: string): void {
    const { maxInputTokens } = this.#deps.limits;
    // Cheap first: a UTF-8 byte is at least 1/3 of a UTF-16 unit, so short texts skip the byte count.
    const perToken = this.#deps.tokenizer.maxBytesPerToken;
    if (perToken === null || text.length <= (maxInputTokens * perToken) / 3) return;
    const atLeast = this.#deps.tokenizer.minTokens(text);
    if (atLeast > maxInputTokens) {
      throw new ValidationError(
        `\`${field}\` must have less than ${maxInputTokens + 1} tokens (max_input_tokens). Given: at least ${atLeast} ` +
          `(${Buffer.byteLength(text)} UTF-8 bytes, at most ${perToken} per token)`,
        field,
      );
    }
  }

  /** The chat template applied to `messages` (also for /chat_tokenize); throws ValidationError. */
  renderChat(input: Extract<PromptInput, { kind: 'chat' }>): string {
    const messages = input.value;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new ValidationError(`\`${input.field}\` must be a non-empty array of messages`, input.field);
    }
    // Rendering is linear in the messages and blocks the thread; no template renders a message in
    // under one token, so more messages than max_input_tokens can never fit.
    const maxMessages = this.#deps.limits.maxInputTokens;
    if (messages.length > maxMessages) {
      throw new ValidationError(`\`${input.field}\` has ${messages.length} messages: more than max_input_tokens (${maxMessages}) can hold`, input.field);
    }
    messages.forEach((m: unknown, i) => {
      const msg = m as Record<string, unknown> | null;
      if (msg === null || typeof msg !== 'object' || typeof msg.role !== 'string') {
        throw new ValidationError(`\`${input.field}[${i}]\` must be an object with a string \`role\``, input.field);
      }
      const c = msg.content;
      if (c !== undefined && c !== null && typeof c !== 'string' && !Array.isArray(c)) {
        throw new ValidationError(`\`${input.field}[${i}].content\` must be a string, an array of parts, or null`, input.field);
      }
      // Parts reach the template package unchecked otherwise: `[null]` must be the client's error, not a TypeError.
      if (Array.isArray(c)) {
        c.forEach((part: unknown, j) => {
          const p = part as Record<string, unknown> | null;
          if (p === null || typeof p !== 'object' || Array.isArray(p) || typeof p.type !== 'string') {
            throw new ValidationError(`\`${input.field}[${i}].content[${j}]\` must be an object with a string \`type\``, input.field);
          }
          if (p.type === 'text' && typeof p.text !== 'string') {
            throw new ValidationError(`\`${input.field}[${i}].content[${j}].text\` must be a string`, input.field);
          }
        });
      }
    });
    const flag = (v: unknown, name: string): boolean | undefined => {
      if (v === undefined || v === null || typeof v === 'boolean') return v ?? undefined;
      throw new ValidationError(`\`${name}\` must be a boolean`, name);
    };
    const extra = input.templateKwargs;
    if (extra !== undefined && extra !== null && (typeof extra !== 'object' || Array.isArray(extra))) {
      throw new ValidationError('`chat_template_kwargs` must be an object', 'chat_template_kwargs');
    }
    const template = this.#deps.chatTemplate;
    if (template === null) throw new ValidationError(this.#deps.chatTemplateError ?? 'this model has no chat template', input.field);
    const tok = this.#deps.tokenizer;
    try {
      return template.render(
        (messages as ChatMessage[]).map((m) => ({ ...m, content: m.content ?? null })),
        {
          addGenerationPrompt: flag(input.addGenerationPrompt, 'add_generation_prompt'),
          continueFinalMessage: flag(input.continueFinalMessage, 'continue_final_message'),
          bosToken: tok.bosToken,
          eosToken: tok.eosToken,
          extra: input.tools
            ? { ...((extra ?? {}) as Record<string, unknown>), tools: input.tools }
            : ((extra ?? undefined) as Record<string, unknown> | undefined),
        },
      );
    } catch (err) {
      if (err instanceof ChatTemplateError) throw new ValidationError(err.message, input.field);
      throw err;
    }
  }
}
