// @module Generated text → tool calls, as it streams: content outside the calls, each call's header once its name is known, then its arguments in pieces.
import { randomBytes } from 'node:crypto';

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
  /** Completed calls (a call cut short by max_tokens is not one). */
  readonly calls: readonly ToolCall[];
  /** The text broke the format after a call's header: a whole (non-streamed) answer returns all of it as content. */
  readonly malformed: boolean;
}

/** OpenAI-style call ids. */
export const callId = () => `call_${randomBytes(12).toString('hex')}`;
/** Mistral's templates insist on 9 letters and digits. */
export const mistralId = () =>
  randomBytes(9)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .padEnd(9, '0')
    .slice(0, 9);
export type NewId = () => string;

/** `{"name": "NAME", "ARGS_KEY": ` up to the arguments' first character (whitespace before it is not theirs). */
const headerRe = (argsKey: string) => new RegExp(`^\\s*\\{\\s*"name"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"\\s*,\\s*"${argsKey}"\\s*:\\s*(?=\\S)`);

/** A name as the model escaped it, decoded; null when it is no JSON string (a raw newline, a bad escape). */
function nameOf(escaped: string): string | null {
  try {
    return JSON.parse(`"${escaped}"`) as string;
  } catch {
    return null;
  }
}

/** A call's JSON ({"name", ARGS_KEY: {...}}) → ToolCall, the arguments as the model wrote them; null if it is not one. */
function callOf(json: string, argsKey: string, newId: NewId): ToolCall | null {
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

const isObjectJson = (text: string) => {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
};

/**
 * Whitespace after a call (between calls, or at the end) is not content: OpenAI sends none there, and
 * the whole answer would otherwise say `content: "\n"` beside its calls. It goes out only if text follows.
 */
class ContentAfterCalls {
  #space = '';

  emit(out: ToolDelta[], text: string, afterCall: boolean): void {
    if (text.length === 0) return;
    if (afterCall && text.trim() === '') {
      this.#space += text;
      return;
    }
    out.push({ kind: 'content', text: this.#space + text });
    this.#space = '';
  }
}

/**
 * Calls between an opening and a closing tag, anywhere in the text (Hermes). Text outside the tags
 * is content, less what might be the start of a tag; inside, the call's header is sent once its name
 * is known, then its arguments in pieces as they come (holding back what may be the closing text).
 */
export class TaggedCallParser implements ToolCallParser {
  readonly calls: ToolCall[] = [];
  malformed = false;
  #buf = '';
  #inCall = false;
  #header: { id: string; name: string; argsStart: number } | null = null;
  #sent = 0;
  #opened = false;
  readonly #content = new ContentAfterCalls();
  readonly #headerRe: RegExp;

  constructor(
    readonly open: string,
    readonly close: string,
    readonly argsKey: string,
  ) {
    this.#headerRe = headerRe(argsKey);
  }

  push(text: string): ToolDelta[] {
    this.#buf += text;
    const out: ToolDelta[] = [];
    for (;;) {
      if (!this.#inCall) {
        const at = this.#buf.indexOf(this.open);
        if (at < 0) {
          const keep = partialTag(this.#buf, this.open);
          this.#content.emit(out, this.#buf.slice(0, this.#buf.length - keep), this.#opened);
          this.#buf = this.#buf.slice(this.#buf.length - keep);
          return out;
        }
        this.#content.emit(out, this.#buf.slice(0, at), this.#opened);
        this.#buf = this.#buf.slice(at + this.open.length);
        this.#inCall = true;
        this.#opened = true;
        this.#header = null;
        this.#sent = 0;
      }
      const index = this.calls.length;
      if (this.#header === null) {
        const m = this.#headerRe.exec(this.#buf);
        const name = m === null ? null : nameOf(m[1]!);
        if (m !== null && name !== null) {
          this.#header = { id: callId(), name, argsStart: m[0].length };
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
      const call = callOf(body, this.argsKey, callId);
      if (call !== null && this.#header !== null) {
        const args = body.slice(this.#header.argsStart).replace(/\s*\}\s*$/, '');
        if (args.length > this.#sent - this.#header.argsStart) out.push({ kind: 'arguments', index, piece: args.slice(this.#sent - this.#header.argsStart) });
        this.calls.push({ id: this.#header.id, name: this.#header.name, arguments: args });
      } else if (this.#header === null) {
        // Not a call after all: the text goes out as it was.
        this.#content.emit(out, `${this.open}${body}${this.close}`, false);
      } else {
        // A header went out but the call does not parse: streamed as it was, refused whole.
        this.malformed = true;
      }
    }
  }

  end(): ToolDelta[] {
    const out: ToolDelta[] = [];
    if (!this.#inCall) {
      this.#content.emit(out, this.#buf, this.#opened);
    } else if (this.#header === null) {
      this.#content.emit(out, `${this.open}${this.#buf}`, false);
    } else if (this.#buf.length > this.#sent) {
      // Cut short (max_tokens): the arguments so far.
      out.push({ kind: 'arguments', index: this.calls.length, piece: this.#buf.slice(this.#sent) });
    }
    this.#buf = '';
    return out;
  }
}

/**
 * Where a JSON object or array that begins at `at` ends, fed the text as it grows: brackets counted
 * outside strings. `depth` 1 starts inside an object (to find the end of the one around the arguments).
 */
class JsonEnd {
  #at: number;
  #depth: number;
  #inString = false;
  #escape = false;

  constructor(at: number, depth = 0) {
    this.#at = at;
    this.#depth = depth;
  }

  /** The index just past the value's end, or -1 while it has not ended. */
  scan(text: string): number {
    for (; this.#at < text.length; this.#at++) {
      const c = text[this.#at];
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === '\\') this.#escape = true;
        else if (c === '"') this.#inString = false;
      } else if (c === '"') this.#inString = true;
      else if (c === '{' || c === '[') this.#depth++;
      else if ((c === '}' || c === ']') && --this.#depth === 0) return ++this.#at;
    }
    return -1;
  }
}

type JsonState =
  | { at: 'open' }
  | { at: 'between'; first: boolean }
  | { at: 'header'; start: number }
  | { at: 'args'; start: number; call: { id: string; name: string }; argsStart: number; scan: JsonEnd; sent: number }
  | { at: 'tail'; start: number; call: { id: string; name: string }; args: string; scan: JsonEnd }
  | { at: 'done' };

/**
 * Calls that are the whole output as JSON: Llama 3's objects (`{"name", "parameters"}`, several
 * separated by ";" or newlines) or Mistral's array after the [TOOL_CALLS] special token (which the
 * detokenizer drops). Output that starts otherwise is content at once. Once a call's header is
 * there it streams like a Hermes call, its arguments' end found by counting brackets; text that
 * starts like a call but never shows a header is held to the end and read whole (any key order).
 */
export class JsonCallsParser implements ToolCallParser {
  readonly calls: ToolCall[] = [];
  malformed = false;
  #text = '';
  #mode: 'unknown' | 'content' | 'calls' = 'unknown';
  #state: JsonState;
  #headers = 0;
  readonly #headerRe: RegExp;

  constructor(
    readonly start: '{' | '[',
    readonly argsKey: string,
    readonly newId: NewId = callId,
  ) {
    this.#headerRe = headerRe(argsKey);
    this.#state = start === '[' ? { at: 'open' } : { at: 'between', first: true };
  }

  push(text: string): ToolDelta[] {
    if (this.#mode === 'content') return text.length > 0 ? [{ kind: 'content', text }] : [];
    this.#text += text;
    if (this.#mode === 'unknown') {
      const lead = this.#text.trimStart();
      if (lead.length === 0) return [];
      this.#mode = lead.startsWith(this.start) ? 'calls' : 'content';
      if (this.#mode === 'content') return [{ kind: 'content', text: this.#text }];
    }
    return this.#advance();
  }

  /** Reads on from the current state as far as the text allows. */
  #advance(): ToolDelta[] {
    const out: ToolDelta[] = [];
    const t = this.#text;
    let pos = this.#pos();
    for (;;) {
      const s = this.#state;
      if (s.at === 'open' || s.at === 'between' || s.at === 'done') {
        while (pos < t.length && /\s/.test(t[pos]!)) pos++;
        if (pos >= t.length) break;
        const c = t[pos]!;
        if (s.at === 'open' && c === '[') this.#state = { at: 'between', first: true };
        else if (s.at === 'between' && c === '{' && (s.first || this.start === '{')) this.#state = { at: 'header', start: pos };
        else if (s.at === 'between' && !s.first && (c === (this.start === '[' ? ',' : ';') || c === '\n'))
          this.#state = { at: 'between', first: this.start === '[' };
        else if (s.at === 'between' && !s.first && this.start === '[' && c === ']') this.#state = { at: 'done' };
        else return [...out, ...this.#broken(pos)];
        if (this.#state.at !== 'header') pos++;
        continue;
      }
      if (s.at === 'header') {
        const m = this.#headerRe.exec(t.slice(s.start));
        if (m === null) break;
        const name = nameOf(m[1]!);
        const argsStart = s.start + m[0].length;
        if (name === null || t[argsStart] !== '{') return [...out, ...this.#broken(s.start)];
        const call = { id: this.newId(), name };
        this.#headers++;
        out.push({ kind: 'call', index: this.calls.length, ...call });
        this.#state = { at: 'args', start: s.start, call, argsStart, scan: new JsonEnd(argsStart), sent: argsStart };
        continue;
      }
      if (s.at === 'args') {
        const end = s.scan.scan(t);
        const upTo = end < 0 ? t.length : end;
        if (upTo > s.sent) out.push({ kind: 'arguments', index: this.calls.length, piece: t.slice(s.sent, upTo) });
        s.sent = upTo;
        if (end < 0) break;
        this.#state = { at: 'tail', start: s.start, call: s.call, args: t.slice(s.argsStart, end), scan: new JsonEnd(end, 1) };
        continue;
      }
      // tail: the rest of the call's object (Mistral may add an "id"), then it must parse as a whole.
      const end = s.scan.scan(t);
      if (end < 0) break;
      if (!isObjectJson(s.args) || !isObjectJson(t.slice(s.start, end))) return [...out, ...this.#broken(end)];
      this.calls.push({ ...s.call, arguments: s.args });
      this.#state = { at: 'between', first: false };
      pos = end;
    }
    this.#consumed = pos;
    return out;
  }

  #consumed = 0;

  /** Where the scan goes on from: the state's own start where it has one, else what was consumed. */
  #pos(): number {
    const s = this.#state;
    return s.at === 'header' ? s.start : this.#consumed;
  }

  /**
   * The text stopped being calls at `from`: it goes out as content, and so does the rest. Before any
   * call's header went out nothing was sent, so then all of it is content.
   */
  #broken(from: number): ToolDelta[] {
    this.malformed = this.#headers > 0;
    this.#mode = 'content';
    const rest = this.#text.slice(this.#headers === 0 ? 0 : from);
    return rest.length > 0 ? [{ kind: 'content', text: rest }] : [];
  }

  end(): ToolDelta[] {
    const text = this.#text;
    this.#text = '';
    if (this.#mode === 'content') return [];
    if (this.#mode === 'unknown') return text.length > 0 ? [{ kind: 'content', text }] : [];
    // No header was ever recognised: read the whole output (another key order, say), or give it back as content.
    if (this.#headers === 0) return this.#whole(text);
    const s = this.#state;
    if (s.at === 'header') return this.#broken(s.start);
    return [];
  }

  #whole(text: string): ToolDelta[] {
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
