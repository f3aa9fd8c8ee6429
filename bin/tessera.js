#!/usr/bin/env node
// Entry point of the `tessera` command: registers the TypeScript loader, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../services/launcher/src/cli.ts');
process.exitCode = await runCli(process.argv.slice(2));
