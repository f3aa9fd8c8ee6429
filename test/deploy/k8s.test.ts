// k8s/: every rendered manifest (base and overlays) validates against the Kubernetes API schemas; the wiring agrees.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { REPO_ROOT } from '../helpers/paths.ts';
import { BAD_LAYOUTS, withBadLayouts } from './bad-layouts.ts';
import { find, readYamlDocs, renderKustomization, strategicMerge, type Manifest } from './kustomize.ts';
import { SERVICE_MONITOR_SCHEMA } from './service-monitor-schema.ts';

const K8S = path.join(REPO_ROOT, 'k8s');
/** The base lives in its own folder: kustomize refuses an overlay inside the folder it builds on (a cycle). */
const BASE = path.join(K8S, 'base');
const OVERLAYS = ['gpu', 'gpu-webgpu', 'monitoring', 'hostpath'];

// apiVersion/kind → the kubernetes-models class whose validate() checks it against the API's OpenAPI schema.
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};
const validateServiceMonitor = new Ajv({ allErrors: true }).compile(SERVICE_MONITOR_SCHEMA);

function validateManifest(m: Manifest): void {
  const key = `${m.apiVersion}/${m.kind}`;
  if (key === 'monitoring.coreos.com/v1/ServiceMonitor') {
    assert.ok(validateServiceMonitor(m), `${key} ${m.metadata.name}: ${JSON.stringify(validateServiceMonitor.errors)}`);
    return;
  }
  const Model = MODELS[key];
  assert.ok(Model, `${key} has no schema here (a typo in apiVersion/kind, or add it to MODELS)`);
  new Model(m as never).validate();
}

const labelsMatch = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const envValue = (c: IContainer, config: IConfigMap, name: string) => c.env?.find((e) => e.name === name)?.value ?? config.data?.[name];

describe('rendering', () => {
  test('strategic merge: maps merge, null deletes, keyed lists merge, other lists replace', () => {
    const base = { a: { b: 1, c: 2 }, containers: [{ name: 'x', image: 'i', args: ['1', '2'] }], tolerations: [{ key: 'k' }] };
    const patch = { a: { c: null, d: 3 }, containers: [{ name: 'x', args: ['3'] }, { name: 'y' }], tolerations: [{ key: 'z' }] };
    assert.deepEqual(strategicMerge(base, patch), {
      a: { b: 1, d: 3 },
      containers: [{ name: 'x', image: 'i', args: ['3'] }, { name: 'y' }],
      tolerations: [{ key: 'z' }],
    });
  });

  for (const target of ['', 'base', ...OVERLAYS.map((o) => `overlays/${o}`)]) {
    test(`k8s/${target}: renders, every manifest validates, all in the tessera namespace`, () => {
      const manifests = renderKustomization(path.join(K8S, target));
      assert.ok(manifests.length >= 8, `${manifests.length} manifests`);
      for (const m of manifests) {
        validateManifest(m);
        if (m.kind !== 'Namespace') assert.equal(m.metadata.namespace, 'tessera', `${m.kind}/${m.metadata.name}`);
        assert.equal(m.metadata.labels?.['app.kubernetes.io/part-of'], 'tessera');
      }
      assert.equal(find<Manifest>(manifests, 'Namespace', 'tessera').metadata.name, 'tessera');
    });
  }

  test('the validators reject a broken manifest (so the checks above can fail)', () => {
    const sts = structuredClone(find<IStatefulSet>(renderKustomization(BASE), 'StatefulSet', 'tessera-shard'));
    (sts.spec as { replicas: unknown }).replicas = 'two';
    assert.throws(() => validateManifest(sts as unknown as Manifest), /replicas must be integer/);
    assert.equal(
      validateServiceMonitor({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'x' },
        spec: { endpoints: [{ prot: 'http' }] },
      }),
      false,
    );
  });
});

describe('layout: k8s/ is the base alone, the overlays build on k8s/base/', () => {
  test('every overlay folder is checked here', () => {
    assert.deepEqual(readdirSync(path.join(K8S, 'overlays')).sort(), [...OVERLAYS].sort());
  });

  test('k8s/kustomization.yaml only includes base/, so `kubectl apply -k k8s/` applies exactly the base', () => {
    assert.deepEqual(readYamlDocs(path.join(K8S, 'kustomization.yaml')), [
      { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['base'] },
    ]);
    assert.deepEqual(renderKustomization(K8S), renderKustomization(BASE));
  });

  test('the renderer rejects what kustomize rejects: an overlay inside its base, a file outside its folder', () => {
    withBadLayouts((root) => {
      assert.equal(renderKustomization(root).length, 1);
      for (const [dir, words] of BAD_LAYOUTS) assert.throws(() => renderKustomization(path.join(root, 'overlays', dir)), words);
    });
  });
});

describe('wiring of the rendered base', () => {
  const manifests = renderKustomization(BASE);
  const sts = find<IStatefulSet>(manifests, 'StatefulSet', 'tessera-shard');
  const headless = find<IService>(manifests, 'Service', sts.spec!.serviceName!);
  const router = find<IDeployment>(manifests, 'Deployment', 'tessera-router');
  const config = find<IConfigMap>(manifests, 'ConfigMap', 'tessera-config');
  const shardPod = sts.spec!.template.spec!;
  const shard = shardPod.containers.find((c) => c.name === 'shard')!;
  const routerC = router.spec!.template.spec!.containers.find((c) => c.name === 'router')!;
  const shardLabels = sts.spec!.template.metadata!.labels!;
  const routerLabels = router.spec!.template.metadata!.labels!;
  const grpcPort = Number(envValue(shard, config, 'TESSERA_PORT'));

  test('both read the ConfigMap; the image is the one kustomize sets', () => {
    for (const c of [shard, routerC]) {
      assert.ok(c.envFrom?.some((e) => e.configMapRef?.name === config.metadata!.name));
      assert.equal(c.image, 'tessera:latest');
    }
    assert.deepEqual(shard.args, ['shard']);
    assert.deepEqual(routerC.args, ['router']);
  });

  test('rank = pod index; replicas = world size; master = pod 0 on the headless service', () => {
    const rank = shard.env!.find((e) => e.name === 'TESSERA_RANK')!;
    assert.equal(rank.valueFrom?.fieldRef?.fieldPath, "metadata.labels['apps.kubernetes.io/pod-index']");
    assert.equal(sts.spec!.replicas, Number(config.data!.TESSERA_WORLD_SIZE));
    assert.equal(config.data!.TESSERA_MASTER_ADDR, `${sts.metadata!.name}-0.${headless.metadata!.name}`);
    const masterPort = Number(config.data!.TESSERA_MASTER_PORT);
    assert.ok(
      shard.ports!.some((p) => p.containerPort === masterPort),
      'the collective port is declared',
    );
    assert.equal(sts.spec!.podManagementPolicy, 'Parallel', 'ranks start together (rank 0 is not ready until all joined)');
  });

  test('the router’s shard URIs are exactly the StatefulSet pods’ DNS names and gRPC port, in rank order', () => {
    const uris = config.data!.TESSERA_SHARD_URIS!.split(',');
    const expected = Array.from({ length: sts.spec!.replicas! }, (_, i) => `${sts.metadata!.name}-${i}.${headless.metadata!.name}:${grpcPort}`);
    assert.deepEqual(uris, expected);
    assert.ok(shard.ports!.some((p) => p.name === 'grpc' && p.containerPort === grpcPort));
    assert.ok(headless.spec!.ports!.some((p) => p.port === grpcPort));
  });

  test('the headless service selects the shard pods and publishes them before they are ready', () => {
    assert.equal(headless.spec!.clusterIP, 'None');
    assert.equal(headless.spec!.publishNotReadyAddresses, true);
    assert.ok(labelsMatch(headless.spec!.selector!, shardLabels));
    assert.ok(labelsMatch(sts.spec!.selector.matchLabels!, shardLabels));
  });

  test('probes: shards use native gRPC probes (grpc.health.v1) on their own port; the router probes real routes on its port', () => {
    for (const probe of [shard.startupProbe, shard.readinessProbe, shard.livenessProbe]) {
      assert.deepEqual(probe!.grpc, { port: grpcPort }, 'the whole-server status (service "")');
      assert.equal(probe!.exec, undefined);
    }
    const httpPort = routerC.ports!.find((p) => p.name === 'http')!;
    assert.equal(String(httpPort.containerPort), envValue(routerC, config, 'TESSERA_PORT'));
    for (const probe of [routerC.startupProbe, routerC.readinessProbe, routerC.livenessProbe]) {
      assert.equal(probe!.httpGet!.port, 'http');
      assert.ok(['/health', '/live'].includes(probe!.httpGet!.path!), `${probe!.httpGet!.path} is a router route open under --api-key`);
    }
    assert.equal(routerC.readinessProbe!.httpGet!.path, '/health');
    assert.equal(routerC.livenessProbe!.httpGet!.path, '/live');
    const svc = find<IService>(manifests, 'Service', 'tessera-router');
    assert.ok(labelsMatch(svc.spec!.selector!, routerLabels));
  });

  test('Prometheus annotations point at the router’s metrics port and path', () => {
    const a = router.spec!.template.metadata!.annotations!;
    assert.equal(a['prometheus.io/scrape'], 'true');
    assert.equal(a['prometheus.io/port'], String(routerC.ports!.find((p) => p.name === 'http')!.containerPort));
    assert.equal(a['prometheus.io/path'], '/metrics');
  });

  test('NetworkPolicy: selects the shard pods; gRPC only from the router pods; shards reach each other', () => {
    const np = find<INetworkPolicy>(manifests, 'NetworkPolicy', 'tessera-shard');
    assert.ok(labelsMatch(np.spec!.podSelector!.matchLabels!, shardLabels));
    assert.deepEqual(np.spec!.policyTypes, ['Ingress']);
    const rules = np.spec!.ingress!;
    const fromRouter = rules.find((r) =>
      r.from?.some((f) => labelsMatch(f.podSelector?.matchLabels ?? {}, routerLabels) && !labelsMatch(f.podSelector?.matchLabels ?? {}, shardLabels)),
    )!;
    assert.deepEqual(fromRouter.ports, [{ protocol: 'TCP', port: grpcPort }]);
    assert.ok(rules.some((r) => r.from?.some((f) => labelsMatch(f.podSelector?.matchLabels ?? {}, shardLabels))));
    for (const r of rules) for (const f of r.from ?? []) assert.ok(f.podSelector && !f.namespaceSelector && !f.ipBlock, 'no other sources');
  });

  test('PodDisruptionBudget covers the shard pods; the model is mounted read-only from the claim', () => {
    const pdb = find<IPodDisruptionBudget>(manifests, 'PodDisruptionBudget', 'tessera-shard');
    assert.ok(labelsMatch(pdb.spec!.selector!.matchLabels!, shardLabels));
    const claim = find<Manifest>(manifests, 'PersistentVolumeClaim', 'tessera-model');
    for (const [pod, c] of [
      [shardPod, shard],
      [router.spec!.template.spec!, routerC],
    ] as const) {
      const vol = pod.volumes!.find((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name)!;
      const mount = c.volumeMounts!.find((m) => m.name === vol.name)!;
      assert.equal(mount.readOnly, true);
      assert.ok(envValue(c, config, 'TESSERA_MODEL_ID')!.startsWith(mount.mountPath));
    }
  });

  test('security: the "restricted" Pod Security Standard — non-root, RuntimeDefault seccomp, no escalation, no capabilities, read-only root', () => {
    for (const [pod, c] of [
      [shardPod, shard],
      [router.spec!.template.spec!, routerC],
    ] as const) {
      assert.equal(pod.securityContext!.runAsNonRoot, true);
      assert.ok((pod.securityContext!.runAsUser ?? 0) > 0);
      assert.equal(pod.securityContext!.seccompProfile?.type, 'RuntimeDefault');
      const sc = c.securityContext!;
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.deepEqual(sc.capabilities?.drop, ['ALL']);
      assert.equal(sc.capabilities?.add, undefined);
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.privileged ?? false, false);
      // Writable places are volumes, each bounded.
      for (const m of c.volumeMounts!.filter((v) => !v.readOnly)) {
        const vol = pod.volumes!.find((v) => v.name === m.name)!;
        assert.ok(vol.emptyDir?.sizeLimit, `${c.name}: ${m.mountPath} has a sizeLimit`);
      }
    }
  });

  test('resources: every container requests and limits CPU, memory and ephemeral storage', () => {
    for (const c of [shard, routerC]) {
      for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
        assert.ok(c.resources?.requests?.[r], `${c.name} requests ${r}`);
        assert.ok(c.resources?.limits?.[r], `${c.name} limits ${r}`);
      }
    }
    const gpu = renderKustomization(path.join(K8S, 'overlays/gpu'));
    const g = find<IStatefulSet>(gpu, 'StatefulSet', 'tessera-shard').spec!.template.spec!.containers.find((c) => c.name === 'shard')!;
    assert.ok(g.resources!.limits!['ephemeral-storage'], 'the GPU patch keeps the ephemeral-storage limit');
  });

  test('resources: CPU requests/limits in the base; the GPU overlay adds nvidia.com/gpu and the CUDA device', () => {
    assert.ok(shard.resources?.limits?.cpu && shard.resources.requests?.memory);
    assert.equal(shard.resources!.limits!['nvidia.com/gpu'], undefined);
    const gpu = renderKustomization(path.join(K8S, 'overlays/gpu'));
    const g = find<IStatefulSet>(gpu, 'StatefulSet', 'tessera-shard').spec!.template.spec!.containers.find((c) => c.name === 'shard')!;
    assert.equal(g.resources!.limits!['nvidia.com/gpu'], '1');
    assert.equal(g.env!.find((e) => e.name === 'TESSERA_DEVICE')?.value, 'cuda');
    assert.ok(
      g.env!.some((e) => e.name === 'TESSERA_RANK'),
      'the patch merges env by name and keeps the rank',
    );
    assert.equal(g.image, 'tessera:latest-gpu');
  });

  test('hostpath overlay swaps the claim for a hostPath and drops the claim; monitoring adds a ServiceMonitor on the router port', () => {
    const hp = renderKustomization(path.join(K8S, 'overlays/hostpath'));
    assert.equal(
      hp.some((m) => m.kind === 'PersistentVolumeClaim'),
      false,
    );
    for (const [kind, name] of [
      ['StatefulSet', 'tessera-shard'],
      ['Deployment', 'tessera-router'],
    ]) {
      const vol = find<IStatefulSet>(hp, kind!, name!).spec!.template.spec!.volumes!.find((v) => v.name === 'model')!;
      assert.ok(vol.hostPath?.path);
      assert.equal(vol.persistentVolumeClaim, undefined);
    }
    const mon = renderKustomization(path.join(K8S, 'overlays/monitoring'));
    const sm = find<{ spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } }>(
      mon,
      'ServiceMonitor',
      'tessera-router',
    );
    const svc = find<IService>(mon, 'Service', 'tessera-router');
    assert.ok(labelsMatch(sm.spec.selector.matchLabels, svc.metadata!.labels));
    assert.ok(svc.spec!.ports!.some((p) => p.name === sm.spec.endpoints[0]!.port));
    assert.equal(sm.spec.endpoints[0]!.path, '/metrics');
  });
});
