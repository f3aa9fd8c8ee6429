// @module The version `--version` prints: the root package.json's, read once.
import { readFileSync } from 'node:fs';

export const TESSERA_VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
