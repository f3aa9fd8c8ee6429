// @module Environment configuration: TESSERA_<FLAG> variables become flags a command knows; explicit flags win.

/** The flags one command accepts, and which of them are switches (take no value). */
export interface FlagSpec {
  flags: Iterable<string>;
  switches?: Iterable<string>;
}

export class EnvFlagError extends Error {
  override readonly name = 'EnvFlagError';
}

/** `model-id` → `TESSERA_MODEL_ID`. */
export function envVarName(flag: string): string {
  return `TESSERA_${flag.replace(/-/g, '_').toUpperCase()}`;
}

/** Flag names given on the command line (`--name value`, `--name=value`, `--switch`). */
function explicitFlags(argv: readonly string[]): Set<string> {
  const given = new Set<string>();
  for (const arg of argv) {
    if (!arg.startsWith('--') || arg.length === 2) continue;
    const eq = arg.indexOf('=');
    given.add(arg.slice(2, eq === -1 ? undefined : eq));
  }
  return given;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['', '0', 'false', 'no', 'off']);

/**
 * The flags read from `env` for every flag of `spec` that `argv` does not give, as `--name=value`
 * (the `=` form, so a value starting with `--` stays a value). Empty variables are ignored, so a
 * compose file can leave one blank. A switch is on for 1/true/yes/on and off for 0/false/no/off.
 */
export function flagsFromEnv(argv: readonly string[], spec: FlagSpec, env: NodeJS.ProcessEnv = process.env): string[] {
  const given = explicitFlags(argv);
  const switches = new Set(spec.switches ?? []);
  const out: string[] = [];
  for (const flag of spec.flags) {
    if (given.has(flag) || flag === 'help') continue;
    const name = envVarName(flag);
    const raw = env[name];
    if (raw === undefined) continue;
    const value = raw.trim();
    if (switches.has(flag)) {
      const lower = value.toLowerCase();
      if (TRUE.has(lower)) out.push(`--${flag}`);
      else if (!FALSE.has(lower)) throw new EnvFlagError(`${name} must be true or false (1/0, yes/no), got "${raw}"`);
      continue;
    }
    if (value === '') continue;
    out.push(`--${flag}=${value}`);
  }
  return out;
}

/** `argv` with the environment's flags in front (the explicit arguments stay as they were). */
export function argvWithEnv(argv: readonly string[], spec: FlagSpec, env: NodeJS.ProcessEnv = process.env): string[] {
  return [...flagsFromEnv(argv, spec, env), ...argv];
}

/**
 * Removes the TESSERA_<FLAG> variables of `flags` from `env`. The launcher forwards what it read as
 * explicit flags, so its children must not pick the same variables up a second time (a
 * TESSERA_RANK meant for a standalone shard would otherwise leak into every local shard).
 */
export function scrubFlagEnv(env: NodeJS.ProcessEnv, flags: Iterable<string>): void {
  for (const flag of flags) delete env[envVarName(flag)];
}
