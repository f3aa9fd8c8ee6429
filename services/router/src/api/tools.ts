// @module OpenAI tools on /v1/chat/completions, request side: `tools`, `tool_choice`, `parallel_tool_calls` checked; tool messages made ready for templates.
import { ValidationError } from '../errors.ts';
import { isObject } from './json-shape.ts';

export interface FunctionTool {
  name: string;
  description?: string;
  /** JSON schema of the arguments (an object schema); absent = any object. */
  parameters?: Record<string, unknown>;
}

export type ToolChoice = 'auto' | 'required' | { name: string };

/** What a request asks of tools, once checked; null when it has none (or tool_choice "none"). */
export interface ToolRequest {
  tools: FunctionTool[];
  choice: ToolChoice;
  /** false: at most one call (OpenAI's parallel_tool_calls, default true). */
  parallel: boolean;
  /** The tools as the client sent them, for the chat template (transformers passes them so). */
  raw: unknown[];
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `tools` + `tool_choice` + `parallel_tool_calls` → ToolRequest. With tool_choice "none" the tools
 * still reach the template (as vLLM does) but nothing is parsed: `render` is set, `request` null.
 */
export function toolsOf(body: Record<string, unknown>): { request: ToolRequest | null; render: unknown[] | null } {
  const raw = body.tools;
  if (raw === undefined || raw === null) {
    if (body.tool_choice !== undefined && body.tool_choice !== null && body.tool_choice !== 'none' && body.tool_choice !== 'auto') {
      throw new ValidationError('`tool_choice` needs `tools`', 'tool_choice');
    }
    return { request: null, render: null };
  }
  if (!Array.isArray(raw)) throw new ValidationError('`tools` must be an array', 'tools');
  if (raw.length === 0) {
    if (body.tool_choice === 'required' || isObject(body.tool_choice)) throw new ValidationError('`tool_choice` needs `tools`', 'tool_choice');
    return { request: null, render: null };
  }
  if (raw.length > 128) throw new ValidationError('`tools` may hold at most 128 functions', 'tools');
  const tools = raw.map((t, i) => functionTool(t, `tools[${i}]`));
  const names = new Set<string>();
  for (const [i, t] of tools.entries()) {
    if (names.has(t.name)) throw new ValidationError(`\`tools[${i}].function.name\` repeats "${t.name}"`, `tools[${i}].function.name`);
    names.add(t.name);
  }
  const parallel = body.parallel_tool_calls ?? true;
  if (typeof parallel !== 'boolean') throw new ValidationError('`parallel_tool_calls` must be a boolean', 'parallel_tool_calls');
  const choice = toolChoice(body.tool_choice, names);
  const render = raw.map(withParameters);
  if (choice === 'none') return { request: null, render };
  return { request: { tools, choice, parallel, raw: render }, render };
}

/** TGI's name for a function's schema is `arguments` (huggingface_hub sends it so); templates read `parameters`. */
function schemaField(f: Record<string, unknown>): unknown {
  return f.parameters ?? (isObject(f.arguments) ? f.arguments : undefined);
}

/** A tool as the template gets it: as sent, with TGI's `arguments` renamed `parameters`. */
function withParameters(t: unknown): unknown {
  if (!isObject(t) || !isObject(t.function) || t.function.parameters !== undefined || !isObject(t.function.arguments)) return t;
  const { arguments: schema, ...rest } = t.function;
  return { ...t, function: { ...rest, parameters: schema } };
}

function functionTool(t: unknown, field: string): FunctionTool {
  if (!isObject(t) || t.type !== 'function' || !isObject(t.function)) {
    throw new ValidationError(`\`${field}\` must be {"type": "function", "function": {"name", …}}`, field);
  }
  const f = t.function;
  if (typeof f.name !== 'string' || !NAME.test(f.name)) {
    throw new ValidationError(`\`${field}.function.name\` must be 1-64 letters, digits, _ or -`, `${field}.function.name`);
  }
  if (f.description !== undefined && f.description !== null && typeof f.description !== 'string') {
    throw new ValidationError(`\`${field}.function.description\` must be a string`, `${field}.function.description`);
  }
  const params = schemaField(f);
  if (params !== undefined && params !== null && !isObject(params)) {
    throw new ValidationError(`\`${field}.function.parameters\` must be a JSON schema object`, `${field}.function.parameters`);
  }
  return { name: f.name, ...(typeof f.description === 'string' ? { description: f.description } : {}), ...(isObject(params) ? { parameters: params } : {}) };
}

/**
 * OpenAI's four forms, plus TGI's two: a bare function name, and `{"function": {"name"}}` without
 * `type` (huggingface_hub's ChatCompletionInputToolChoiceClass).
 */
function toolChoice(c: unknown, names: ReadonlySet<string>): ToolChoice | 'none' {
  if (c === undefined || c === null || c === 'auto') return 'auto';
  if (c === 'none' || c === 'required') return c;
  if (typeof c === 'string' && names.has(c)) return { name: c };
  if (isObject(c) && (c.type === undefined || c.type === 'function') && isObject(c.function) && typeof c.function.name === 'string') {
    if (!names.has(c.function.name)) throw new ValidationError(`\`tool_choice\` names "${c.function.name}", which is not in \`tools\``, 'tool_choice');
    return { name: c.function.name };
  }
  throw new ValidationError('`tool_choice` must be "none", "auto", "required" or {"type": "function", "function": {"name"}}', 'tool_choice');
}

/**
 * Messages as chat templates expect them: an assistant's `tool_calls[].function.arguments` arrive as
 * a JSON string (OpenAI's wire form) while templates write them with `| tojson`, so a string that
 * parses becomes the object (as vLLM does). Everything else passes unchanged.
 */
export function messagesForTemplate(messages: unknown): unknown {
  if (!Array.isArray(messages)) return messages;
  return messages.map((m) => {
    if (!isObject(m) || !Array.isArray(m.tool_calls)) return m;
    return {
      ...m,
      // Clients send null content beside tool calls; templates test it with `in` (Qwen3), which null breaks.
      content: m.content ?? '',
      tool_calls: m.tool_calls.map((call: unknown) => {
        if (!isObject(call) || !isObject(call.function) || typeof call.function.arguments !== 'string') return call;
        try {
          return { ...call, function: { ...call.function, arguments: JSON.parse(call.function.arguments) } };
        } catch {
          return call;
        }
      }),
    };
  });
}
