// @module Parses a command line against a command's option table (node:util parseArgs), folding in TESSERA_<FLAG> variables.
import { parseArgs } from 'node:util';
import { nearestFlag } from './nearest-flag.ts';
import { envVarName, UsageError, type CommandSpec, type OptionSpec } from './option-table.ts';

export interface ParsedCommand {
  /** Canonical flag name → value; a switch that is on is `'true'` (off switches are absent). */
  values: Map<string, string>;
  /** The flags that came from the command line (the others in `values` came from the environment). */
  explicit: Set<string>;
  /** `--help` / `-h` was given: print the help, parse nothing else. */
  help: boolean;
  /** `--version` was given. */
  version: boolean;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['', '0', 'false', 'no', 'off']);

/** Every spelling that reaches an option (canonical name and aliases) → the canonical name. */
function spellings(command: CommandSpec): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, spec] of Object.entries(command.options)) {
    map.set(name, name);
    for (const alias of spec.aliases ?? []) map.set(alias, name);
  }
  return map;
}

function unknownFlag(command: CommandSpec, raw: string, names: Map<string, string>): UsageError {
  const typed = raw.replace(/^-+/, '');
  const hint = raw.startsWith('--') ? nearestFlag(typed, [...names.keys(), 'help', 'version']) : null;
  const suffix = hint !== null ? ` (did you mean --${hint}?)` : `; see 'tessera ${command.name} --help'`;
  return new UsageError(`unknown flag ${raw}${suffix}`);
}

/** The environment's value for a flag the command line did not give, or undefined. */
function fromEnv(name: string, spec: OptionSpec, env: NodeJS.ProcessEnv): string | undefined {
  const variable = envVarName(name);
  const raw = env[variable];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (spec.type === 'boolean') {
    const lower = value.toLowerCase();
    if (TRUE.has(lower)) return 'true';
    if (FALSE.has(lower)) return undefined;
    throw new UsageError(`${variable} must be true or false (1/0, yes/no), got "${raw}"`);
  }
  // An empty variable is ignored, so a compose file can leave one blank.
  return value === '' ? undefined : value;
}

/**
 * Parses `argv` (without the command name). Unknown flags, missing values, values given to switches
 * and stray positionals are UsageErrors with one-line messages. Variables TESSERA_<FLAG> fill in the
 * flags `argv` does not give (the command line wins); pass `{}` as `env` to ignore the environment.
 */
export function parseCommand(command: CommandSpec, argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedCommand {
  const names = spellings(command);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  };
  for (const [spelling, name] of names) {
    const spec = command.options[name]!;
    options[spelling] = { type: spec.type, ...(spelling === name && spec.short ? { short: spec.short } : {}) };
  }
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<string, string>();
  const positionals: string[] = [];
  let help = false;
  let version = false;
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    if (token.name === 'help') help = true;
    if (token.name === 'version') version = true;
    if (token.name === 'help' || token.name === 'version') continue;
    const name = names.get(token.name);
    if (name === undefined) throw unknownFlag(command, token.rawName, names);
    const spec = command.options[name]!;
    if (spec.type === 'boolean') {
      if (token.inlineValue) throw new UsageError(`${token.rawName} is a switch and takes no value (got "${token.value}")`);
      values.set(name, 'true');
      continue;
    }
    // `--model-id --port 1` is a forgotten value, not a model called "--port".
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-') && token.value.length > 1 && !/^-\d/.test(token.value))) {
      throw new UsageError(`${token.rawName} needs a value`);
    }
    values.delete(name); // the last one wins, and keeps its place in the order given
    values.set(name, token.value.trim());
  }
  if (help || version) return { values, explicit: new Set(values.keys()), help, version };
  const slots = command.positionals ?? (command.positional ? [command.positional] : []);
  if (positionals.length > slots.length) {
    const extra = positionals[slots.length]!;
    if (slots.length === 0) throw new UsageError(`unexpected argument "${extra}"; see 'tessera ${command.name} --help'`);
    throw new UsageError(`unexpected argument "${extra}": give ${slots.map((s) => s.name).join(' ')}`);
  }
  positionals.forEach((value, i) => {
    const slot = slots[i]!;
    if (values.has(slot.option)) throw new UsageError(`${slot.name} given twice: "${value}" and --${slot.option} ${values.get(slot.option)}`);
    values.set(slot.option, value);
  });
  const explicit = new Set(values.keys());
  for (const [name, spec] of Object.entries(command.options)) {
    if (explicit.has(name) || spec.env === false) continue;
    const value = fromEnv(name, spec, env);
    if (value !== undefined) values.set(name, value);
  }
  return { values, explicit, help, version };
}

/** Re-serialises values as `--name value` pairs (switches bare) for a child process; `--name=value` keeps a leading '-' a value. */
export function toArgv(values: Iterable<[string, string]>, command: Pick<CommandSpec, 'options'>): string[] {
  const out: string[] = [];
  for (const [name, value] of values) {
    if (command.options[name]?.type === 'boolean') out.push(`--${name}`);
    else out.push(`--${name}=${value}`);
  }
  return out;
}

/** Removes the TESSERA_<FLAG> variables of `flags` from `env` (a launcher's children must not read them a second time). */
export function scrubFlagEnv(env: NodeJS.ProcessEnv, flags: Iterable<string>): void {
  for (const flag of flags) delete env[envVarName(flag)];
}
