// @module A tiny `--flag value` / `--flag=value` / `--switch` parser shared by the launcher's commands.

export class FlagError extends Error {
  override readonly name = 'FlagError';
}

export interface ParsedFlags {
  /** Flag name (without dashes) → raw string value ('true' for bare switches). */
  values: Map<string, string>;
  /** Arguments that are not flags. */
  positional: string[];
}

/** Parses argv; `switches` names the flags that take no value. */
export function parseFlags(argv: readonly string[], switches: ReadonlySet<string> = new Set()): ParsedFlags {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (eq !== -1) values.set(name, arg.slice(eq + 1));
    else if (switches.has(name)) values.set(name, 'true');
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new FlagError(`--${name} needs a value`);
      values.set(name, next);
      i++;
    }
  }
  return { values, positional };
}

/** Re-serialises the given flags (in insertion order) as `--name value` pairs; `switches` as bare `--name`. */
export function toArgv(values: Iterable<[string, string]>, switches: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const [k, v] of values) {
    if (switches.has(k)) out.push(`--${k}`);
    else out.push(`--${k}`, v);
  }
  return out;
}

export function intFlag(values: Map<string, string>, name: string, fallback: number, min = 0): number {
  const raw = values.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new FlagError(`--${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}
