// @module Constrained-output fields of every API (OpenAI response_format, TGI grammar, vLLM guided_*) → one Constraint, shapes checked.
import type { Constraint } from '@tessera/grammar';
import { ValidationError } from '../errors.ts';

/** A request's constraint and the field it came from (named in a 400 when its grammar is refused). */
export interface ConstraintParam {
  constraint: Constraint;
  field: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function schemaValue(value: unknown, field: string): unknown {
  if (typeof value === 'string') {
    try {
      return schemaValue(JSON.parse(value), field);
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      throw new ValidationError(`\`${field}\` is not valid JSON`, field);
    }
  }
  if (!isObject(value) && typeof value !== 'boolean') throw new ValidationError(`\`${field}\` must be a JSON schema (an object)`, field);
  return value;
}

/**
 * OpenAI `response_format`: text | json_object | json_schema {name, schema, strict}. TGI's chat API
 * sends `{type: "json_object" | "json", value: SCHEMA}`, accepted as a schema.
 */
export function responseFormatConstraint(raw: unknown, field = 'response_format'): ConstraintParam | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) throw new ValidationError(`\`${field}\` must be an object`, field);
  switch (raw.type) {
    case 'text':
      return null;
    case 'json_object':
    case 'json':
      if (raw.value !== undefined && raw.value !== null)
        return { constraint: { type: 'json_schema', schema: schemaValue(raw.value, `${field}.value`) }, field: `${field}.value` };
      return { constraint: { type: 'json_object' }, field };
    case 'json_schema': {
      const spec = raw.json_schema;
      if (!isObject(spec)) throw new ValidationError(`\`${field}.json_schema\` must be an object with \`name\` and \`schema\``, `${field}.json_schema`);
      if (spec.name !== undefined && (typeof spec.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(spec.name))) {
        throw new ValidationError(`\`${field}.json_schema.name\` must be 1-64 letters, digits, _ or -`, `${field}.json_schema.name`);
      }
      // A missing schema means "any JSON object" (OpenAI's own default).
      if (spec.schema === undefined || spec.schema === null) return { constraint: { type: 'json_object' }, field };
      return { constraint: { type: 'json_schema', schema: schemaValue(spec.schema, `${field}.json_schema.schema`) }, field: `${field}.json_schema.schema` };
    }
    default:
      throw new ValidationError(`\`${field}.type\` must be one of text, json_object, json_schema. Given: ${JSON.stringify(raw.type)}`, `${field}.type`);
  }
}

/** TGI `parameters.grammar`: {type: "json" | "json_object" | "regex" | "ebnf", value}. */
export function tgiGrammarConstraint(raw: unknown, field = 'grammar'): ConstraintParam | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) throw new ValidationError(`\`${field}\` must be an object {type, value}`, field);
  const valueField = `${field}.value`;
  switch (raw.type) {
    case 'json':
    case 'json_object':
    case 'json_schema':
      return { constraint: { type: 'json_schema', schema: schemaValue(raw.value, valueField) }, field: valueField };
    case 'regex':
      if (typeof raw.value !== 'string' || raw.value === '') throw new ValidationError(`\`${valueField}\` must be a non-empty regular expression`, valueField);
      return { constraint: { type: 'regex', pattern: raw.value }, field: valueField };
    case 'ebnf':
      if (typeof raw.value !== 'string' || raw.value === '') throw new ValidationError(`\`${valueField}\` must be a non-empty EBNF grammar`, valueField);
      return { constraint: { type: 'grammar', ebnf: raw.value }, field: valueField };
    default:
      throw new ValidationError(`\`${field}.type\` must be one of json, regex, ebnf. Given: ${JSON.stringify(raw.type)}`, `${field}.type`);
  }
}

/** vLLM's guided_json | guided_regex | guided_choice | guided_grammar (at most one). */
export function guidedConstraint(body: Record<string, unknown>): ConstraintParam | null {
  const given = ['guided_json', 'guided_regex', 'guided_choice', 'guided_grammar'].filter((k) => body[k] !== undefined && body[k] !== null);
  if (given.length === 0) return null;
  if (given.length > 1) throw new ValidationError(`only one of ${given.map((k) => `\`${k}\``).join(', ')} may be given`, given[1]!);
  const field = given[0]!;
  const value = body[field];
  switch (field) {
    case 'guided_json':
      return { constraint: { type: 'json_schema', schema: schemaValue(value, field) }, field };
    case 'guided_regex':
      if (typeof value !== 'string' || value === '') throw new ValidationError(`\`${field}\` must be a non-empty regular expression`, field);
      return { constraint: { type: 'regex', pattern: value }, field };
    case 'guided_choice':
      if (!Array.isArray(value) || value.length === 0 || !value.every((c) => typeof c === 'string' && c !== '')) {
        throw new ValidationError(`\`${field}\` must be a non-empty array of non-empty strings`, field);
      }
      return { constraint: { type: 'choice', choices: value as string[] }, field };
    default:
      if (typeof value !== 'string' || value === '') throw new ValidationError(`\`${field}\` must be a non-empty EBNF grammar`, field);
      return { constraint: { type: 'grammar', ebnf: value }, field };
  }
}

/** The one constraint of a request; two sources at once (e.g. response_format and guided_json) are refused. */
export function oneConstraint(...found: (ConstraintParam | null)[]): ConstraintParam | undefined {
  const given = found.filter((c): c is ConstraintParam => c !== null);
  if (given.length > 1)
    throw new ValidationError(`\`${given[0]!.field}\` and \`${given[1]!.field}\` cannot be combined: give one output constraint`, given[1]!.field);
  return given[0];
}
