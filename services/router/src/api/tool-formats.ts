// @module How a model family writes tool calls: picked from its chat template; the constraint that makes it write valid ones, and the parser that reads them back.
import type { Constraint, StructuralTagFormat } from '@tessera/grammar';
import { JsonCallsParser, mistralId, TaggedCallParser, type ToolCallParser } from './tool-call-parsers.ts';
import type { FunctionTool, ToolRequest } from './tools.ts';

export type { ToolCall, ToolDelta } from './tool-call-parsers.ts';

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
  parser: () => new JsonCallsParser('{', 'parameters'),
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
  parser: () => new JsonCallsParser('[', 'arguments', mistralId),
};
