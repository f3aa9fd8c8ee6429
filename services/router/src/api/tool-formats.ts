// @module How a model family writes tool calls: picked from its chat template; the constraint that makes it write valid ones, and the parser that reads them back.
import { randomBytes } from 'node:crypto';
import type { Constraint, StructuralTagFormat } from '@tessera/grammar';
import type { FunctionTool, ToolRequest } from './tools.ts';

/** One parsed call, as OpenAI returns it (`arguments` is the JSON text the model wrote). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** What a chunk of generated text turned into: visible content, a call starting, or a piece of its arguments. */
export type ToolDelta =
  | { kind: 'content'; text: string }
  | { kind: 'call'; index: number; id: string; name: string }
  | { kind: 'arguments'; index: number; piece: string };

export interface ToolCallParser {
  push(text: string): ToolDelta[];
  /** The output ended: whatever was held back. */
  end(): ToolDelta[];
  readonly calls: readonly ToolCall[];
}

export interface ToolFormat {
  /** hermes: `<tool_call>\n{"name", "arguments"}\n</tool_call>` (Qwen2.5/3, Hermes, default); llama3: `{"name", "parameters"}`; mistral: `[TOOL_CALLS][{"name", "arguments"}, …]`. */
  readonly name: 'hermes' | 'llama3' | 'mistral';
  /** The constraint for this request's tool_choice, or null where calls are only parsed. */
  constraint(t: ToolRequest): Constraint | null;
  parser(): ToolCallParser;
}

/** The family's format from its chat template text; Hermes-style when the template says nothing (documented in docs/api.md). */
export function toolFormatOf(template: string | null): ToolFormat {
  const t = template ?? '';
  if (t.includes('[TOOL_CALLS]')) return MISTRAL;
  if (t.includes('<tool_call>')) return HERMES;
  if (t.includes('<|start_header_id|>') && (t.includes('<|python_tag|>') || t.includes('"parameters"'))) return LLAMA3;
  return HERMES;
}

/** OpenAI-style call ids; Mistral's templates insist on 9 letters and digits. */
export const callId = () => `call_${randomBytes(12).toString('hex')}`;
const mistralId = () =>
  randomBytes(9)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .padEnd(9, '0')
    .slice(0, 9);
type NewId = () => string;

const schemaOf = (f: FunctionTool): StructuralTagFormat => ({ type: 'json_schema', json_schema: f.parameters ?? { type: 'object' } });

/** The tools a call may name: all of them, or the one tool_choice names. */
const chosen = (t: ToolRequest) => (typeof t.choice === 'object' ? t.tools.filter((f) => f.name === (t.choice as { name: string }).name) : t.tools);

/** A Hermes or Llama-3 call as a structural-tag tag: fixed text up to the arguments, the schema, the closing text. */
function tagsFor(t: ToolRequest, open: string, argsKey: string, close: string) {
  return chosen(t).map((f) => ({
    type: 'tag' as const,
    begin: `${open}{"name": ${JSON.stringify(f.name)}, "${argsKey}": `,
    content: schemaOf(f),
    end: `}${close}`,
  }));
}

/**
 * `auto`: free text until the call's opening text, then only valid calls (xgrammar's triggered tags).
 * `required` / named: one or more valid calls and nothing else; `parallel_tool_calls: false`: exactly one.
 */
function taggedConstraint(t: ToolRequest, open: string, trigger: string, argsKey: string, close: string): Constraint {
  const tags = tagsFor(t, open, argsKey, close);
  const single = !t.parallel || typeof t.choice === 'object';
  if (t.choice === 'auto') return { type: 'structural_tag', format: { type: 'triggered_tags', triggers: [trigger], tags, stop_after_first: single } };
  return { type: 'structural_tag', format: { type: 'tags_with_separator', tags, separator: '\n', at_least_one: true, stop_after_first: single } };
}

const HERMES: ToolFormat = {
  name: 'hermes',
  constraint: (t) => taggedConstraint(t, '<tool_call>\n', '<tool_call>', 'arguments', '\n</tool_call>'),
  parser: () => new TaggedCallParser('<tool_call>', '</tool_call>', 'arguments'),
};

const LLAMA3: ToolFormat = {
  name: 'llama3',
  constraint: (t) => taggedConstraint(t, '', '{"name": ', 'parameters', ''),
  parser: () => new WholeOutputParser('{', 'parameters'),
};

const MISTRAL: ToolFormat = {
  name: 'mistral',
  // [TOOL_CALLS] is a special token: no grammar can write it, and it is not in the text. Required
  // calls are constrained to the JSON array that follows it; `auto` output is parsed only.
  constraint: (t) => {
    if (t.choice === 'auto') return null;
    const tags = chosen(t).map((f) => ({ type: 'tag' as const, begin: `{"name": ${JSON.stringify(f.name)}, "arguments": `, content: schemaOf(f), end: '}' }));
    const single = !t.parallel || typeof t.choice === 'object';
    // A tag around the list: xgrammar 0.1.27 cannot compile tags_with_separator followed by more text in a sequence.
    return {
      type: 'structural_tag',
      format: {
        type: 'tag',
        begin: '[',
        content: { type: 'tags_with_separator', tags, separator: ', ', at_least_one: true, stop_after_first: single },
        end: ']',
      },
    };
  },
  parser: () => new WholeOutputParser('[', 'arguments', mistralId),
};

/** A call's JSON ({"name", ARGS_KEY: {...}}) → ToolCall, the arguments as the model wrote them; null if it is not one. */
function callOf(json: string, argsKey: string, newId: NewId = callId): ToolCall | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  const v = value as Record<string, unknown> | null;
  if (v === null || typeof v !== 'object' || typeof v.name !== 'string' || typeof v[argsKey] !== 'object' || v[argsKey] === null) return null;
  const raw = new RegExp(`^\\s*\\{\\s*"name"\\s*:\\s*"(?:[^"\\\\]|\\\\.)*"\\s*,\\s*"${argsKey}"\\s*:\\s*([\\s\\S]*?)\\s*\\}\\s*$`).exec(json);
  return { id: newId(), name: v.name, arguments: raw?.[1] ?? JSON.stringify(v[argsKey]) };
}

/** The longest end of `text` that begins `tag` (held back: it may be the start of the tag). */
function partialTag(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) if (text.endsWith(tag.slice(0, n))) return n;
  return 0;
}

/**
 * Calls between an opening and a closing tag, anywhere in the text (Hermes). Text outside the tags
 * is content, less what might be the start of a tag; inside, the call's header is sent once its name
 * is known, then its arguments in pieces as they come (holding back what may be the closing text).
 */
class TaggedCallParser implements ToolCallParser {
  readonly calls: ToolCall[] = [];
  #buf = '';
  #inCall = false;
  #header: { id: string; name: string; argsStart: number } | null = null;
  #sent = 0;

  constructor(
    readonly open: string,
    readonly close: string,
    readonly argsKey: string,
  ) {}

  push(text: string): ToolDelta[] {
    this.#buf += text;
    const out: ToolDelta[] = [];
    for (;;) {
      if (!this.#inCall) {
        const at = this.#buf.indexOf(this.open);
        if (at < 0) {
          const keep = partialTag(this.#buf, this.open);
          const visible = this.#buf.slice(0, this.#buf.length - keep);
          if (visible.length > 0) out.push({ kind: 'content', text: visible });
          this.#buf = this.#buf.slice(this.#buf.length - keep);
          return out;
        }
        if (at > 0) out.push({ kind: 'content', text: this.#buf.slice(0, at) });
        this.#buf = this.#buf.slice(at + this.open.length);
        this.#inCall = true;
        this.#header = null;
        this.#sent = 0;
      }
      const index = this.calls.length;
      if (this.#header === null) {
        // The header counts once the arguments' first character is there (whitespace before it is not theirs).
        const m = new RegExp(`^\\s*\\{\\s*"name"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"\\s*,\\s*"${this.argsKey}"\\s*:\\s*(?=\\S)`).exec(this.#buf);
        if (m !== null) {
          this.#header = { id: callId(), name: JSON.parse(`"${m[1]}"`) as string, argsStart: m[0].length };
          this.#sent = m[0].length;
          out.push({ kind: 'call', index, id: this.#header.id, name: this.#header.name });
        }
      }
      const end = this.#buf.indexOf(this.close);
      if (end < 0) {
        if (this.#header !== null) {
          const safe = this.#buf.length - this.close.length - 2;
          if (safe > this.#sent) {
            out.push({ kind: 'arguments', index, piece: this.#buf.slice(this.#sent, safe) });
            this.#sent = safe;
          }
        }
        return out;
      }
      const body = this.#buf.slice(0, end);
      this.#buf = this.#buf.slice(end + this.close.length);
      this.#inCall = false;
      const call = callOf(body, this.argsKey);
      if (call !== null && this.#header !== null) {
        const args = body.slice(this.#header.argsStart).replace(/\s*\}\s*$/, '');
        if (args.length > this.#sent - this.#header.argsStart) out.push({ kind: 'arguments', index, piece: args.slice(this.#sent - this.#header.argsStart) });
        this.calls.push({ id: this.#header.id, name: this.#header.name, arguments: args });
      } else if (this.#header === null) {
        // Not a call after all: the text goes out as it was.
        out.push({ kind: 'content', text: `${this.open}${body}${this.close}` });
      }
    }
  }

  end(): ToolDelta[] {
    const out: ToolDelta[] = [];
    if (!this.#inCall) {
      if (this.#buf.length > 0) out.push({ kind: 'content', text: this.#buf });
    } else if (this.#header === null) {
      out.push({ kind: 'content', text: `${this.open}${this.#buf}` });
    } else if (this.#buf.length > this.#sent) {
      // Cut short (max_tokens): the arguments so far.
      out.push({ kind: 'arguments', index: this.calls.length, piece: this.#buf.slice(this.#sent) });
    }
    this.#buf = '';
    return out;
  }
}

/**
 * Calls that are the whole output (Llama 3's JSON object, Mistral's array after [TOOL_CALLS]): text
 * that starts otherwise streams as content at once; text that starts like a call is held to the end
 * and returned as calls if it parses, as content if not.
 */
class WholeOutputParser implements ToolCallParser {
  readonly calls: ToolCall[] = [];
  #buf = '';
  #mode: 'unknown' | 'content' | 'calls' = 'unknown';

  constructor(
    readonly start: '{' | '[',
    readonly argsKey: string,
    readonly newId: NewId = callId,
  ) {}

  push(text: string): ToolDelta[] {
    if (this.#mode === 'content') return text.length > 0 ? [{ kind: 'content', text }] : [];
    this.#buf += text;
    const lead = this.#buf.trimStart();
    if (this.#mode === 'unknown' && lead.length > 0) this.#mode = lead.startsWith(this.start) ? 'calls' : 'content';
    if (this.#mode !== 'content') return [];
    const out: ToolDelta[] = [{ kind: 'content', text: this.#buf }];
    this.#buf = '';
    return out;
  }

  end(): ToolDelta[] {
    const text = this.#buf;
    this.#buf = '';
    if (this.#mode !== 'calls') return text.length > 0 ? [{ kind: 'content', text }] : [];
    const parts = this.start === '[' ? arrayItems(text) : text.split(/\n|;(?=\s*\{)/).filter((s) => s.trim() !== '');
    const calls = parts?.map((p) => callOf(p, this.argsKey, this.newId));
    if (calls === undefined || calls.length === 0 || calls.some((c) => c === null)) return [{ kind: 'content', text }];
    const out: ToolDelta[] = [];
    for (const c of calls as ToolCall[]) {
      const index = this.calls.length;
      this.calls.push(c);
      out.push({ kind: 'call', index, id: c.id, name: c.name }, { kind: 'arguments', index, piece: c.arguments });
    }
    return out;
  }
}

/** The items of a JSON array as their own JSON texts; undefined when `text` is not an array of objects. */
function arrayItems(text: string): string[] | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null) ? v.map((x) => JSON.stringify(x)) : undefined;
  } catch {
    return undefined;
  }
}
