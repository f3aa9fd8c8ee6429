// @module Paths the end-to-end tests share: the repo root, ../shared (optional), the test cache.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Generated models and compiled graphs reused across test files (git-ignored). */
export const TEST_CACHE = path.join(REPO_ROOT, '.cache', 'test');

const SHARED = path.resolve(REPO_ROOT, '..', 'shared');

/** A path inside ../shared, or null when a fresh clone has no ../shared beside it. */
export function sharedPath(...parts: string[]): string | null {
  const p = path.join(SHARED, ...parts);
  return existsSync(p) ? p : null;
}

export const SKIP_NO_SHARED = '../shared (stories260K and its fixture) is not beside this checkout';
