// @module Reads a Dockerfile into build stages and instructions, and applies .dockerignore rules, for the deploy tests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/paths.ts';

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
}

export interface Stage {
  /** The image or stage after FROM (build args unexpanded), and the stage's `AS` name ('' when none). */
  from: string;
  name: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/** Parses `file` (relative to the repo root): comments dropped, `\` continuations joined. */
export function readDockerfile(file: string): Dockerfile {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const out: Dockerfile = { globalArgs: {}, stages: [] };
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const kw = keyword!.toUpperCase();
    if (kw === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!.replace(/--platform=\S+\s+/, ''));
      if (!m) throw new Error(`${file}: cannot read FROM ${args}`);
      out.stages.push({ from: m[1]!, name: m[2] ?? '', instructions: [] });
    } else if (out.stages.length === 0) {
      if (kw !== 'ARG') throw new Error(`${file}: ${kw} before the first FROM`);
      const eq = args!.indexOf('=');
      out.globalArgs[eq < 0 ? args! : args!.slice(0, eq)] = eq < 0 ? '' : args!.slice(eq + 1);
    } else out.stages.at(-1)!.instructions.push({ keyword: kw, args: args! });
  }
  return out;
}

export function stage(d: Dockerfile, name: string): Stage {
  const s = d.stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage "${name}"`);
  return s;
}

/** The arguments of every `keyword` instruction of `s`. */
export const argsOf = (s: Stage, keyword: string) => s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** Sources of the COPY instructions of `s` that read the build context (not `--from`). */
export function contextSources(s: Stage): string[] {
  return argsOf(s, 'COPY')
    .filter((a) => !a.startsWith('--from='))
    .flatMap((a) =>
      a
        .replace(/--\S+\s+/g, '')
        .split(/\s+/)
        .slice(0, -1),
    );
}

/** A .dockerignore pattern as a regular expression (Go filepath.Match plus `**`, as Docker reads it). */
function patternRegex(pattern: string): RegExp {
  const p = path.posix.normalize(pattern.replace(/^\/+/, '')).replace(/\/+$/, '');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      re += '.*';
      i++;
      if (p[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether the build context leaves out `file` (relative to the context root) under the .dockerignore
 * `patterns`: the last matching pattern decides (`!` re-includes); a pattern that matches a parent
 * directory covers everything below it.
 */
export function dockerignored(file: string, patterns: string[]): boolean {
  const parts = path.posix.normalize(file).split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const negate = raw.startsWith('!');
    const re = patternRegex(negate ? raw.slice(1) : raw);
    if (candidates.some((c) => re.test(c))) ignored = !negate;
  }
  return ignored;
}
