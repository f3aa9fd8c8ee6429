// @module `--help` text generated from a command's option table: one flag per line, grouped, with env variables.
import { envVarName, type CommandSpec } from './option-table.ts';

function flagColumn(name: string, spec: CommandSpec['options'][string]): string {
  const names = [...(spec.short ? [`-${spec.short}`] : []), `--${name}`, ...(spec.aliases ?? []).map((a) => `--${a}`)];
  return spec.type === 'boolean' ? names.join(', ') : `${names.join(', ')} ${spec.value ?? 'VALUE'}`;
}

/** The whole `tessera NAME --help` text. */
export function formatHelp(command: CommandSpec): string {
  const lines = [`usage: tessera ${command.name} ${command.synopsis}`];
  if (command.summary) lines.push('', command.summary);
  const groups = new Map<string, string[]>();
  const rows = Object.entries(command.options).map(([name, spec]) => ({ name, spec, flag: flagColumn(name, spec) }));
  const width = Math.min(34, Math.max(...rows.map((r) => r.flag.length)) + 2);
  for (const { spec, flag } of rows) {
    const group = spec.group ?? 'flags';
    const text = spec.default !== undefined ? `${spec.help} (default ${spec.default})` : spec.help;
    const line = flag.length + 2 > width ? `  ${flag}\n  ${' '.repeat(width)}${text}` : `  ${flag.padEnd(width)}${text}`;
    groups.set(group, [...(groups.get(group) ?? []), line]);
  }
  for (const [group, entries] of groups) lines.push('', `${group}:`, ...entries);
  lines.push('', `  ${'-h, --help'.padEnd(width)}this text`, `  ${'--version'.padEnd(width)}print the version and exit`);
  const envFlag = Object.keys(command.options).find((n) => command.options[n]!.env !== false);
  if (envFlag !== undefined) {
    lines.push('', `Every flag may also come from the environment as TESSERA_<FLAG> (--${envFlag} → ${envVarName(envFlag)}); the command line wins.`);
  }
  if (command.footer) lines.push(command.footer);
  return lines.join('\n');
}
