// @module `--model-id org/name[@revision]` resolved offline from the Hugging Face hub cache (HF_HUB_CACHE / HF_HOME), as TGI and vLLM do.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A model argument resolved to something on disk, and the name to serve it under. */
export interface ResolvedModel {
  /** HF directory or .gguf file to load. */
  path: string;
  /** `org/name` for a hub-cache model, else the path's last component. */
  servedName: string;
  /** `org/name` when the model came from the Hugging Face cache (a repo id, or a snapshot path), else null. */
  repoId: string | null;
}

export class ModelNotFoundError extends Error {
  override readonly name = 'ModelNotFoundError';
}

/** `org/name` or `org/name@revision`: a hub repository id (a local path wins when it exists). */
const REPO_ID = /^([A-Za-z0-9][\w.-]*)\/([\w.-]+)(?:@([\w./-]+))?$/;

/** The hub cache directory, as huggingface_hub picks it: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  const home = env.HF_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface');
  return path.join(home, 'hub');
}

/** `…/models--org--name/snapshots/<rev>[/file]` → `org/name`; null for any other path. */
export function repoIdOfSnapshotPath(p: string): string | null {
  const parts = path.resolve(p).split(path.sep);
  const at = parts.lastIndexOf('snapshots');
  const repo = at > 0 ? /^models--(.+)$/.exec(parts[at - 1]!) : null;
  return repo ? repo[1]!.split('--').join('/') : null;
}

/** What to load inside a snapshot: the directory itself (config.json), or its only .gguf file. */
function modelInSnapshot(dir: string, repoId: string): string {
  if (fs.existsSync(path.join(dir, 'config.json'))) return dir;
  const ggufs = fs.readdirSync(dir).filter((f) => f.endsWith('.gguf'));
  if (ggufs.length === 1) return path.join(dir, ggufs[0]!);
  if (ggufs.length > 1)
    throw new ModelNotFoundError(`${repoId}: the snapshot ${dir} holds several .gguf files (${ggufs.join(', ')}); give one file's path as --model-id`);
  throw new ModelNotFoundError(`${repoId}: the snapshot ${dir} has neither config.json nor a .gguf file`);
}

function snapshotOf(repoDir: string, revision: string | undefined): { dir: string | null; looked: string } {
  const snapshots = path.join(repoDir, 'snapshots');
  const ref = path.join(repoDir, 'refs', revision ?? 'main');
  if (fs.existsSync(ref)) {
    const dir = path.join(snapshots, fs.readFileSync(ref, 'utf8').trim());
    return { dir: fs.existsSync(dir) ? dir : null, looked: `${ref} → ${dir}` };
  }
  if (revision !== undefined) {
    const dir = path.join(snapshots, revision);
    return { dir: fs.existsSync(dir) ? dir : null, looked: `${ref} and ${dir}` };
  }
  // No refs/main (a cache copied by hand): one snapshot is unambiguous.
  const all = fs.existsSync(snapshots) ? fs.readdirSync(snapshots) : [];
  return { dir: all.length === 1 ? path.join(snapshots, all[0]!) : null, looked: `${ref} (and ${all.length} snapshot(s) in ${snapshots})` };
}

/**
 * Resolves a `--model-id`: an existing path is used as it is (served as `org/name` when it lies in a
 * hub-cache snapshot); `org/name[@revision]` is looked up in the hub cache, never downloaded; a
 * ModelNotFoundError says where it looked. Any other string is returned unchanged (loading reports it).
 */
export function resolveModelArg(given: string, env: NodeJS.ProcessEnv = process.env): ResolvedModel {
  if (fs.existsSync(given)) {
    const repoId = repoIdOfSnapshotPath(given);
    return { path: given, servedName: repoId ?? (path.basename(given.replace(/\/+$/, '')) || given), repoId };
  }
  const m = REPO_ID.exec(given);
  if (m === null) return { path: given, servedName: path.basename(given.replace(/\/+$/, '')) || given, repoId: null };
  const [, org, name, revision] = m;
  const repoId = `${org}/${name}`;
  const cache = hubCacheDir(env);
  const repoDir = path.join(cache, `models--${org}--${name}`);
  const { dir, looked } = snapshotOf(repoDir, revision);
  if (dir === null) {
    throw new ModelNotFoundError(
      `model "${given}" is not a local path and not in the Hugging Face cache: looked at ${looked} ` +
        `(cache ${cache}, from ${env.HF_HUB_CACHE ? 'HF_HUB_CACHE' : env.HF_HOME ? 'HF_HOME' : 'the default'}); nothing is downloaded`,
    );
  }
  return { path: modelInSnapshot(dir, repoId), servedName: repoId, repoId };
}
