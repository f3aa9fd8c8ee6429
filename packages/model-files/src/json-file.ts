// @module Reading a model directory's JSON files with errors that name the file.

import fs from 'node:fs';
import path from 'node:path';
import { ModelLoadError } from './types.ts';

/** Parses `dir/name` as a JSON object; undefined if absent and not required. */
export function readJsonObject(dir: string, name: string, required: true): Record<string, unknown>;
export function readJsonObject(dir: string, name: string, required?: boolean): Record<string, unknown> | undefined;
export function readJsonObject(dir: string, name: string, required = false): Record<string, unknown> | undefined {
  const text = readTextFile(dir, name, required);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModelLoadError(name, `is not valid JSON (${(error as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ModelLoadError(name, 'must be a JSON object');
  return value as Record<string, unknown>;
}

/** `dir/name` as text; undefined if absent and not required. */
export function readTextFile(dir: string, name: string, required = false): string | undefined {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    if (required) throw new ModelLoadError(name, `is missing from ${dir}`);
    return undefined;
  }
  return fs.readFileSync(file, 'utf8');
}
