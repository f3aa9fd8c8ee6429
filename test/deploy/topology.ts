// @module The processes a compose file or the rendered StatefulSet/Deployment would run, rewritten to loopback for a rehearsal.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { REPO_ROOT } from '../helpers/paths.ts';
import { routerServices, shardServices, type ComposeFile } from './compose-file.ts';
import { find, type Manifest } from './kustomize.ts';

/** One service as its container would start it: name on the network, `tessera` arguments, environment, health probe. */
export interface ServiceSpec {
  name: string;
  role: 'shard' | 'router';
  args: string[];
  env: Record<string, string>;
  /** `tessera …` arguments of the health check (exec probe / compose healthcheck), an HTTP GET, or a native gRPC probe (grpc.health.v1). */
  health: { exec: string[] } | { httpPath: string; port: number } | { grpcPort: number; service: string };
}

/** The runtime stage's ENV of the Dockerfile (every container starts with it; the service's own env overrides). */
export function imageEnv(dockerfile = path.join(REPO_ROOT, 'Dockerfile')): Record<string, string> {
  const text = readFileSync(dockerfile, 'utf8').replace(/\\\n/g, ' ');
  const stage = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of stage.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const m of line.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) {
      // build args (${X}) default to empty here: no --build-arg in a rehearsal
      env[m[1]!] = (m[3] ?? m[2]!).replace(/\$\{[^}]*\}/g, '');
    }
  }
  return env;
}

/** `["CMD", "tessera", …]` → the tessera arguments. */
function tesseraArgs(test: string[]): string[] {
  const args = test[0] === 'CMD' ? test.slice(1) : test;
  if (args[0] !== 'tessera') throw new Error(`health check does not run tessera: ${JSON.stringify(test)}`);
  return args.slice(1);
}

export function composeServices(compose: ComposeFile): ServiceSpec[] {
  const services = [...shardServices(compose), ...routerServices(compose)];
  return services.map(([name, s]) => ({
    name,
    role: s.command![0] as 'shard' | 'router',
    args: s.command!,
    env: { ...(s.environment ?? {}) },
    health: { exec: tesseraArgs(s.healthcheck!.test) },
  }));
}

function containerEnv(c: IContainer, config: IConfigMap, fieldRefs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef?.name !== config.metadata!.name) throw new Error(`envFrom ${JSON.stringify(from)} is not the tessera ConfigMap`);
    Object.assign(env, config.data);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = fieldRefs[e.valueFrom.fieldRef.fieldPath] ?? fail(`unknown fieldRef ${e.valueFrom.fieldRef.fieldPath}`);
    else if (e.valueFrom?.resourceFieldRef) {
      const [kind, res] = e.valueFrom.resourceFieldRef.resource.split('.') as ['limits' | 'requests', string];
      // the downward API rounds CPU up to whole cores (divisor 1)
      env[e.name] = String(Math.ceil(parseCpu(String(c.resources?.[kind]?.[res] ?? fail(`no ${kind}.${res}`)))));
    } else throw new Error(`env ${e.name}: unsupported source`);
  }
  return env;
}

const fail = (msg: string): never => {
  throw new Error(msg);
};
const parseCpu = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));

function probeHealth(c: IContainer, probe: IProbe | undefined): ServiceSpec['health'] {
  if (probe?.exec?.command) return { exec: tesseraArgs(probe.exec.command) };
  if (probe?.grpc) return { grpcPort: probe.grpc.port, service: probe.grpc.service ?? '' };
  if (probe?.httpGet) {
    const port = probe.httpGet.port;
    const number = typeof port === 'number' ? port : c.ports!.find((p) => p.name === port)!.containerPort;
    return { httpPath: probe.httpGet.path!, port: number };
  }
  throw new Error(`container ${c.name} has no usable readiness probe`);
}

/** The StatefulSet's pods (ordinal = pod index) and the router Deployment's pod, as the kubelet would start them. */
export function kubernetesServices(manifests: Manifest[]): ServiceSpec[] {
  const sts = find<IStatefulSet>(manifests, 'StatefulSet', 'tessera-shard');
  const router = find<IDeployment>(manifests, 'Deployment', 'tessera-router');
  const config = find<IConfigMap>(manifests, 'ConfigMap', 'tessera-config');
  const out: ServiceSpec[] = [];
  const shard = sts.spec!.template.spec!.containers[0]!;
  for (let i = 0; i < sts.spec!.replicas!; i++) {
    const pod = `${sts.metadata!.name}-${i}`;
    out.push({
      name: `${pod}.${sts.spec!.serviceName}`,
      role: 'shard',
      args: shard.args!,
      env: containerEnv(shard, config, { "metadata.labels['apps.kubernetes.io/pod-index']": String(i), 'metadata.name': pod }),
      health: probeHealth(shard, shard.readinessProbe),
    });
  }
  const r = router.spec!.template.spec!.containers[0]!;
  out.push({ name: router.metadata!.name!, role: 'router', args: r.args!, env: containerEnv(r, config, {}), health: probeHealth(r, r.readinessProbe) });
  return out;
}
