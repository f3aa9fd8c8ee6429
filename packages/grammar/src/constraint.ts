// @module What a request constrains its output to (every API's fields end up here), and its wire form: one xgrammar structural tag.
import type { StructuralTagFormat } from '@mlc-ai/web-xgrammar';
import type { Xgrammar } from './xgrammar.ts';

export type { StructuralTagFormat } from '@mlc-ai/web-xgrammar';

/** A constraint on the generated text, whatever API field it came from. */
export type Constraint =
  /** OpenAI response_format json_schema, TGI grammar {type: "json"}, vLLM guided_json. */
  | { type: 'json_schema'; schema: unknown }
  /** OpenAI response_format json_object: any JSON object. */
  | { type: 'json_object' }
  /** TGI grammar {type: "regex"}, vLLM guided_regex: the whole output matches. */
  | { type: 'regex'; pattern: string }
  /** vLLM guided_choice: exactly one of the strings. */
  | { type: 'choice'; choices: string[] }
  /** vLLM guided_grammar, Tessera `grammar` {type: "ebnf"}: xgrammar EBNF (GBNF-like), root rule `root`. */
  | { type: 'grammar'; ebnf: string }
  /** Tool calls: free text and tagged calls (json_schema nodes inside are converted like json_schema above). */
  | { type: 'structural_tag'; format: StructuralTagFormat };

/**
 * JSON is constrained to one line with json.dumps' separators (", " and ": "): free whitespace lets
 * a model pad forever (small models do), and compact output is what clients parse anyway. xgrammar
 * offers this layout only through its JSON-schema → EBNF converter, so schemas become grammar
 * nodes before anything is compiled. Strict mode: no properties or items beyond the schema's.
 */
async function schemaGrammar(xg: Xgrammar, schema: unknown): Promise<StructuralTagFormat> {
  const text = JSON.stringify(splitIntegerBounds(schema));
  const ebnf = await xg.call((lib) => lib.Testings._jsonSchemaToEBNF(text, false, -1, [', ', ': '], true));
  return { type: 'grammar', grammar: jsonSafeStringCharacters(ebnf) };
}

/**
 * xgrammar 0.1.27 turns an integer bound that ends in 0 after a non-zero digit into a grammar that
 * admits the next nine numbers ([0, 120] accepts 121…129, [-130, -10] accepts -139…-131). Such a
 * bound is split off as a constant: anyOf [the range without it, the bound], both of which it
 * renders correctly (brute-forced in grammar.test.ts). Applied to every subschema.
 */
export function splitIntegerBounds(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(splitIntegerBounds);
  if (typeof schema !== 'object' || schema === null) return schema;
  const node: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) node[k] = k === 'const' || k === 'enum' || k === 'default' || k === 'examples' ? v : splitIntegerBounds(v);
  if (node.type !== 'integer') return node;
  const risky = (b: unknown): b is number => typeof b === 'number' && Number.isInteger(b) && b % 10 === 0 && Math.abs(b) >= 10;
  const { minimum, maximum, ...rest } = node;
  const lo = typeof minimum === 'number' ? minimum : undefined;
  const hi = typeof maximum === 'number' ? maximum : undefined;
  if (!risky(lo) && !risky(hi)) return node;
  if (lo !== undefined && hi !== undefined && lo >= hi) return lo === hi ? { ...rest, const: lo } : node;
  const exact = [lo, hi].filter(risky).map((b) => ({ ...rest, const: b }));
  const inner = {
    ...rest,
    ...(lo !== undefined ? { minimum: risky(lo) ? lo + 1 : lo } : {}),
    ...(hi !== undefined ? { maximum: risky(hi) ? hi - 1 : hi } : {}),
  };
  const empty = typeof inner.minimum === 'number' && typeof inner.maximum === 'number' && inner.minimum > inner.maximum;
  return { anyOf: [...(empty ? [] : [inner]), ...exact] };
}

/**
 * xgrammar 0.1.27 writes string characters of length-bounded strings as [^"\\\r\n] and a pattern's
 * `.` as [\u0000-\U0010FFFF], both of which admit control characters (and the latter `"` and
 * backslash), which JSON forbids unescaped: the output would not parse. Its unbounded strings already use
 * the right class; this gives the others the same.
 */
export function jsonSafeStringCharacters(ebnf: string): string {
  const jsonChar = String.raw`[^\0-\x1f"\\]`;
  return ebnf.replaceAll(String.raw`[^"\\\r\n]`, jsonChar).replaceAll(String.raw`[\u0000-\U0010FFFF]`, jsonChar);
}

/** The structural-tag format of a constraint, JSON schemas converted to grammar nodes. */
export async function constraintFormat(xg: Xgrammar, c: Constraint): Promise<StructuralTagFormat> {
  switch (c.type) {
    case 'json_schema':
      return schemaGrammar(xg, c.schema);
    case 'json_object':
      return schemaGrammar(xg, { type: 'object' });
    case 'regex':
      return { type: 'regex', pattern: c.pattern };
    case 'choice':
      return { type: 'or', elements: c.choices.map((value) => ({ type: 'const_string', value })) };
    case 'grammar':
      return { type: 'grammar', grammar: c.ebnf };
    case 'structural_tag':
      return convertSchemas(xg, c.format);
  }
}

async function convertSchemas(xg: Xgrammar, f: StructuralTagFormat): Promise<StructuralTagFormat> {
  switch (f.type) {
    case 'json_schema':
      return schemaGrammar(xg, f.json_schema);
    case 'sequence':
    case 'or':
      return { ...f, elements: await Promise.all(f.elements.map((e) => convertSchemas(xg, e))) };
    case 'tag':
      return { ...f, content: await convertSchemas(xg, f.content) };
    case 'triggered_tags':
    case 'tags_with_separator':
      return { ...f, tags: await Promise.all(f.tags.map(async (t) => ({ ...t, content: await convertSchemas(xg, t.content) }))) };
    default:
      return f;
  }
}

/** The wire form sent to the shards (NextTokenChooserParameters.grammar): a structural tag as JSON. */
export function wireGrammar(format: StructuralTagFormat): string {
  return JSON.stringify({ type: 'structural_tag', format });
}
