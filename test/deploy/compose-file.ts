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

/** The compose file as data: merge keys resolved, variables interpolated with `vars` (default: none set). */
export function loadCompose(vars: Record<string, string | undefined> = {}): ComposeFile {
  // Interpolate values, not the whole text, so comments mentioning ${…} stay inert.
  const raw = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as unknown;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return interpolate(v, vars);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(raw) as ComposeFile;
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
