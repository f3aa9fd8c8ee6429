// @module ChatTemplate: renders OpenAI-style messages through a model's Jinja chat template, as transformers does.
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { strftime } from './strftime.ts';

/** A template that cannot be rendered for this request (the router answers 422 with the message). */
export class ChatTemplateError extends Error {
  override readonly name = 'ChatTemplateError';
}

export const NO_CHAT_TEMPLATE_MESSAGE = 'this model has no chat template; pass --chat-template FILE or use /v1/completions';

export type ChatContentPart = { type: 'text'; text: string } | { type: string; [key: string]: unknown };

export interface ChatMessage {
  role: string;
  content: string | ChatContentPart[] | null;
  name?: string;
  tool_calls?: unknown;
  [key: string]: unknown;
}

export interface RenderOptions {
  /** Append the assistant-turn header (default true; false when continueFinalMessage). */
  addGenerationPrompt?: boolean;
  /** Leave the final (assistant) message open so generation continues it. */
  continueFinalMessage?: boolean;
  bosToken?: string | null;
  eosToken?: string | null;
  /** chat_template_kwargs: extra template variables (e.g. tools, enable_thinking). */
  extra?: Record<string, unknown>;
}

/** Marks an error raised by the template itself, so its message reaches the user verbatim. */
class TemplateRaised extends Error {}

/** Names the template environment defines; a request's extra kwargs may not replace them. */
const RESERVED = new Set([
  'messages',
  'add_generation_prompt',
  'raise_exception',
  'strftime_now',
  'range',
  'namespace',
  'true',
  'false',
  'none',
  'True',
  'False',
  'None',
]);

/** Python's range(stop) / range(start, stop[, step]). */
function pythonRange(...args: unknown[]): number[] {
  const nums = args.map(Number);
  const [start, stop, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
  if (step === 0 || !Number.isFinite(start + stop + step)) throw new Error('range() arguments must be integers, step non-zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

function contentText(content: ChatMessage['content'], index: number): string | null {
  if (content === null || typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new ChatTemplateError(`messages[${index}].content must be a string, an array of parts or null`);
  const texts: string[] = [];
  for (const part of content) {
    if (part.type !== 'text' || typeof part.text !== 'string') {
      throw new ChatTemplateError(`messages[${index}]: content part type "${String(part.type)}" is not supported (text only)`);
    }
    texts.push(part.text);
  }
  return texts.join('\n'); // as vLLM's "string" content format does
}

export class ChatTemplate {
  private readonly template: Template;

  constructor(readonly source: string | null) {
    if (source === null) throw new ChatTemplateError(NO_CHAT_TEMPLATE_MESSAGE);
    try {
      this.template = new Template(source); // trim_blocks + lstrip_blocks, like transformers
    } catch (err) {
      throw new ChatTemplateError(`chat template does not parse: ${(err as Error).message}`);
    }
  }

  render(messages: readonly ChatMessage[], opts: RenderOptions = {}): string {
    const continueFinal = opts.continueFinalMessage ?? false;
    if (continueFinal && opts.addGenerationPrompt === true) {
      throw new ChatTemplateError('continue_final_message and add_generation_prompt cannot both be true');
    }
    if (continueFinal && messages.length === 0) throw new ChatTemplateError('continue_final_message needs at least one message');
    const addGenerationPrompt = continueFinal ? false : (opts.addGenerationPrompt ?? true);

    const plain = messages.map((message, i) => {
      const copy: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(message)) if (value !== undefined) copy[key] = value;
      copy.content = contentText(message.content, i);
      return copy;
    });

    const rendered = this.renderVariables({
      ...(opts.bosToken != null ? { bos_token: opts.bosToken } : {}),
      ...(opts.eosToken != null ? { eos_token: opts.eosToken } : {}),
      ...this.checkedExtra(opts.extra),
      messages: plain,
      add_generation_prompt: addGenerationPrompt,
    });
    if (!continueFinal) return rendered;
    const final = plain[plain.length - 1]!.content;
    return cutAfterFinalMessage(rendered, typeof final === 'string' ? final : '');
  }

  private checkedExtra(extra: Record<string, unknown> | undefined): Record<string, unknown> {
    for (const key of Object.keys(extra ?? {})) {
      if (RESERVED.has(key)) throw new ChatTemplateError(`chat_template_kwargs may not set "${key}"`);
    }
    return extra ?? {};
  }

  private renderVariables(variables: Record<string, unknown>): string {
    const env = new Environment();
    const globals: Record<string, unknown> = {
      true: true,
      false: false,
      none: null,
      True: true,
      False: false,
      None: null,
      raise_exception: (message: unknown) => {
        throw new TemplateRaised(String(message));
      },
      range: pythonRange,
      strftime_now: (format: unknown) => strftime(new Date(), String(format)),
    };
    for (const [key, value] of Object.entries(globals)) env.set(key, value);
    for (const [key, value] of Object.entries(variables)) env.set(key, value);
    try {
      const result = new Interpreter(env).run(this.template.parsed);
      return String(result.value);
    } catch (err) {
      if (err instanceof TemplateRaised) throw new ChatTemplateError(err.message);
      throw new ChatTemplateError(`chat template error: ${(err as Error).message}`);
    }
  }
}

/**
 * transformers' continue_final_message: cut the rendered chat right after the final message's content, so the
 * end-of-turn tokens the template adds after it are dropped (trailing whitespace the template trimmed stays trimmed).
 */
function cutAfterFinalMessage(rendered: string, finalContent: string): string {
  const stripped = finalContent.trim();
  const at = rendered.lastIndexOf(stripped);
  if (at < 0) {
    throw new ChatTemplateError('continue_final_message is set but the final message does not appear in the rendered chat template');
  }
  const leftLength = finalContent.trimStart().length;
  // Same comparison as transformers (against the unstripped content).
  if (rendered.slice(at, at + leftLength) === finalContent) return rendered.slice(0, at + leftLength);
  return rendered.slice(0, at + stripped.length);
}
