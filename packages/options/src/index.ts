// @module Command-line options for every `tessera` command: tables, parsing, help, environment variables.
export { envVarName, grouped, pick, UsageError, type CommandSpec, type OptionSpec, type OptionTable } from './option-table.ts';
export { parseCommand, scrubFlagEnv, toArgv, type ParsedCommand } from './parse-command.ts';
export { formatHelp } from './help-text.ts';
export { editDistance, nearestFlag } from './nearest-flag.ts';
export { TESSERA_VERSION } from './version.ts';
export { reportStartFailure } from './start-failure.ts';
