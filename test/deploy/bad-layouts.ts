// Two kustomize layouts that kustomize itself rejects, written to a temp folder for the renderer's and kubectl's tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The folder of each bad overlay, and the words kustomize's error has for it. */
export const BAD_LAYOUTS = [
  ['inside', /cycle detected: candidate root .* contains visited root/],
  ['file', /is not in or below/],
] as const;

/**
 * A valid base (one Namespace) with two overlays below it: `overlays/inside` builds on the folder
 * that contains it, `overlays/file` names a file outside its own folder. Calls `use` with the root,
 * then removes it.
 */
export function withBadLayouts(use: (root: string) => void): void {
  const root = mkdtempSync(path.join(tmpdir(), 'tessera-kustomize-'));
  try {
    const kustomization = (dir: string, resources: string[]) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        path.join(dir, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [${resources.join(', ')}]\n`,
      );
    };
    writeFileSync(path.join(root, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n');
    kustomization(root, ['ns.yaml']);
    kustomization(path.join(root, 'overlays', 'inside'), ['../..']);
    kustomization(path.join(root, 'overlays', 'file'), ['../../ns.yaml']);
    use(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
