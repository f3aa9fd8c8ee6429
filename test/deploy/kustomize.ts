// @module A renderer for the subset of kustomize that k8s/ uses (resources, namespace, labels, images, strategic-merge patches).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
};
type Json = Record<string, unknown>;

/** Kustomization fields this renderer implements faithfully; anything else is an error, not a silent skip. */
const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'patches', 'images']);
/** Kinds that are not namespaced (the namespace transformer leaves them alone). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'CustomResourceDefinition']);
/** Strategic-merge keys of the Kubernetes list fields the patches touch (from the API's x-kubernetes-patch-merge-key). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
};

export function readYamlDocs(file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS() as Json | null;
    })
    .filter((d): d is Json => d !== null);
}

const sameTarget = (a: Json, b: Json) => {
  const am = a.metadata as Json,
    bm = b.metadata as Json;
  const group = (v: unknown) => String(v).split('/').slice(0, -1).join('/');
  return a.kind === b.kind && am.name === bm.name && group(a.apiVersion) === group(b.apiVersion);
};

/** Strategic merge patch: maps merge, null deletes, lists with a merge key merge by it, other lists are replaced. */
export function strategicMerge(base: unknown, patch: unknown, field = ''): unknown {
  if (patch === null) return undefined;
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field] ?? (field === 'ports' ? portKey(patch) : undefined);
    if (!key || !Array.isArray(base)) return structuredClone(patch);
    const out = structuredClone(base) as Json[];
    for (const item of patch as Json[]) {
      const at = out.findIndex((x) => x[key] === item[key]);
      if (item.$patch === 'delete') {
        if (at >= 0) out.splice(at, 1);
      } else if (at >= 0) out[at] = strategicMerge(out[at], item) as Json;
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (patch && typeof patch === 'object') {
    const out: Json = base && typeof base === 'object' && !Array.isArray(base) ? { ...(base as Json) } : {};
    for (const [k, v] of Object.entries(patch as Json)) {
      const merged = strategicMerge(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return patch;
}

/** Container ports merge by containerPort, Service ports by port. */
function portKey(items: unknown[]): string {
  return (items[0] as Json | undefined)?.containerPort !== undefined ? 'containerPort' : 'port';
}

function podSpecOf(m: Json): Json | undefined {
  const spec = m.spec as Json | undefined;
  return ((spec?.template as Json | undefined)?.spec as Json | undefined) ?? (m.kind === 'Pod' ? spec : undefined);
}

function applyImages(m: Json, images: Json[]): void {
  const pod = podSpecOf(m);
  if (!pod) return;
  for (const c of [...((pod.containers as Json[]) ?? []), ...((pod.initContainers as Json[]) ?? [])]) {
    const image = String(c.image);
    const name = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
    const rule = images.find((i) => i.name === name);
    if (!rule) continue;
    c.image = `${(rule.newName as string | undefined) ?? name}${rule.digest ? `@${rule.digest}` : `:${(rule.newTag as string | undefined) ?? 'latest'}`}`;
  }
}

/** kustomize's loader rule: a kustomization directory may not be, or contain, one already on the path that led to it. */
function assertNoCycle(candidate: string, visited: string[]): void {
  for (const root of visited) {
    if (root === candidate || root.startsWith(candidate + path.sep)) {
      throw new Error(`cycle detected: candidate root '${candidate}' contains visited root '${root}'`);
    }
  }
}

/** Renders the kustomization in `dir` (a directory holding kustomization.yaml) to its list of manifests. */
export function renderKustomization(dir: string): Manifest[] {
  return render(path.resolve(dir), []);
}

function render(dir: string, visited: string[]): Manifest[] {
  const [k] = readYamlDocs(path.join(dir, 'kustomization.yaml')) as [Json];
  for (const field of Object.keys(k))
    if (!SUPPORTED.has(field)) throw new Error(`${dir}: kustomization field "${field}" is not supported by the test renderer`);
  let out: Json[] = [];
  for (const r of (k.resources as string[] | undefined) ?? []) {
    const p = path.resolve(dir, r);
    if (statSync(p).isDirectory()) {
      assertNoCycle(p, [...visited, dir]);
      out.push(...render(p, [...visited, dir]));
    } else {
      // kustomize's default load restrictor: a file resource must be in or below its kustomization's folder
      if (!p.startsWith(dir + path.sep)) throw new Error(`security; file '${p}' is not in or below '${dir}'`);
      out.push(...readYamlDocs(p));
    }
  }
  for (const entry of (k.patches as Json[] | undefined) ?? []) {
    if (typeof entry.path !== 'string' || Object.keys(entry).length !== 1)
      throw new Error(`${dir}: only "patches: - path: FILE" (strategic merge) is supported`);
    for (const patch of readYamlDocs(path.resolve(dir, entry.path))) {
      const at = out.findIndex((m) => sameTarget(m, patch));
      if (at < 0) throw new Error(`${dir}: patch ${entry.path} matches no resource (${String(patch.kind)}/${String((patch.metadata as Json).name)})`);
      if (patch.$patch === 'delete') out.splice(at, 1);
      else out[at] = strategicMerge(out[at], patch) as Json;
    }
  }
  for (const m of out) applyImages(m, (k.images as Json[] | undefined) ?? []);
  if (typeof k.namespace === 'string') {
    for (const m of out) if (!CLUSTER_SCOPED.has(String(m.kind))) (m.metadata as Json).namespace = k.namespace;
  }
  for (const rule of (k.labels as Json[] | undefined) ?? []) {
    if (rule.includeSelectors !== false || rule.includeTemplates === true)
      throw new Error(`${dir}: only labels with includeSelectors: false (and no includeTemplates) are supported`);
    for (const m of out) {
      const meta = m.metadata as Json;
      meta.labels = { ...((meta.labels as Json | undefined) ?? {}), ...(rule.pairs as Json) };
    }
  }
  out = out.map((m) => structuredClone(m));
  return out as Manifest[];
}

/** The one manifest of `kind` named `name` in `manifests` (throws when absent). */
export function find<T = Json>(manifests: Manifest[], kind: string, name: string): T {
  const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`no ${kind}/${name} in the rendered manifests`);
  return m as unknown as T;
}
