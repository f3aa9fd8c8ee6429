// @module Reads docker-compose.yml the way `docker compose` does (YAML merge keys, ${VAR:-default}) for the deploy tests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/paths.ts';

export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  shm_size?: string;
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  [key: string]: unknown;
}

/**
 * Compose interpolation of `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$` against `vars`
 * (the subset of the compose specification this repository's files use).
 */
export function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, name, op, fallback, bare) => {
    if (m === '$$') return '$';
    if (bare) return vars[bare] ?? '';
    const value = vars[name];
    if (op === ':-') return value ? value : fallback;
    if (op === '-') return value ?? fallback;
    return value ?? '';
  });
}

/** One compose file as data: merge keys resolved, variables interpolated with `vars`. */
function readComposeFile(file: string, vars: Record<string, string | undefined>): ComposeFile {
  // Interpolate values, not the whole text, so comments mentioning ${…} stay inert.
  const raw = parse(readFileSync(file, 'utf8'), { merge: true }) as unknown;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return interpolate(v, vars);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(raw) as ComposeFile;
}

/** The compose file as data: merge keys resolved, variables interpolated with `vars` (default: none set). */
export function loadCompose(vars: Record<string, string | undefined> = {}): ComposeFile {
  return readComposeFile(COMPOSE_FILE, vars);
}

/**
 * `docker compose -f a.yml -f b.yml`: later files merge into earlier ones (mappings merge key by key,
 * scalars are replaced). Compose merges sequences per field (some append, some replace); this loader
 * refuses an override that gives a sequence the earlier file already has, rather than guess.
 */
export function mergeCompose(base: unknown, override: unknown, at = ''): unknown {
  if (Array.isArray(override) && base !== undefined) throw new Error(`${at}: both files set this sequence; the test loader does not merge sequences`);
  const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (!isMap(base) || !isMap(override)) return structuredClone(override);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = k in out ? mergeCompose(out[k], v, `${at}.${k}`) : structuredClone(v);
  return out;
}

/** docker-compose.yml with override files (paths relative to the repo root) applied in order. */
export function loadComposeWith(overrides: string[], vars: Record<string, string | undefined> = {}): ComposeFile {
  return overrides.reduce((acc, f) => mergeCompose(acc, readComposeFile(path.join(REPO_ROOT, f), vars)) as ComposeFile, loadCompose(vars));
}

/** Services that run `tessera shard`, in rank order. */
export function shardServices(compose: ComposeFile): [string, ComposeService][] {
  return Object.entries(compose.services)
    .filter(([, s]) => s.command?.[0] === 'shard')
    .sort(([, a], [, b]) => Number(a.environment?.TESSERA_RANK) - Number(b.environment?.TESSERA_RANK));
}

/** Services that run `tessera router`. */
export function routerServices(compose: ComposeFile): [string, ComposeService][] {
  return Object.entries(compose.services).filter(([, s]) => s.command?.[0] === 'router');
}
