// @module One declarative option table per command: the types every command's table is written in.

/** One flag of a command. The key in the table is its canonical long name (`model-id`). */
export interface OptionSpec {
  /** `string` takes a value; `boolean` is a bare switch. */
  type: 'string' | 'boolean';
  /** One line for `--help`. */
  help: string;
  /** Placeholder of the value in `--help` (`PATH`, `N`). Default `VALUE`. */
  value?: string;
  /** The default, as shown in `--help` (parsing never fills it in: the command resolves defaults). */
  default?: string;
  /** A one-letter alias (`m` for `-m`). */
  short?: string;
  /** Other long names accepted for the same option (vLLM's / TGI's spelling: `model`, `host`). */
  aliases?: readonly string[];
  /** Whether TESSERA_<FLAG> may set it. Default true; false for flags that only make sense per process. */
  env?: boolean;
  /** Heading it is listed under in `--help` (the launcher groups its own, shard and router flags). */
  group?: string;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** A command: its option table, an optional positional that fills one option, and its help text. */
export interface CommandSpec {
  /** `tessera router` → `router`. */
  name: string;
  /** The synopsis after `usage: tessera NAME`. */
  synopsis: string;
  /** One paragraph printed under the synopsis. */
  summary?: string;
  options: OptionTable;
  /** `tessera launch MODEL`: the positional argument named `name` sets option `option`. */
  positional?: { name: string; option: string };
  /** Several positionals, in order (`tessera quantize IN OUT TYPE`); each sets its option. Not with `positional`. */
  positionals?: readonly { name: string; option: string }[];
  /** Lines printed after the flags. */
  footer?: string;
}

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `model-id` → `TESSERA_MODEL_ID`. */
export function envVarName(flag: string): string {
  return `TESSERA_${flag.replace(/-/g, '_').toUpperCase()}`;
}

/** The table restricted to `names` (in the table's order). */
export function pick(table: OptionTable, names: (name: string) => boolean): Record<string, OptionSpec> {
  return Object.fromEntries(Object.entries(table).filter(([name]) => names(name)));
}

/** The table with every option put under `group` in `--help`. */
export function grouped(table: OptionTable, group: string): Record<string, OptionSpec> {
  return Object.fromEntries(Object.entries(table).map(([name, spec]) => [name, { ...spec, group }]));
}
