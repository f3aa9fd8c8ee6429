// GPU deployment, checked offline: Dockerfile.gpu (the CUDA provider from the npm registry, Vulkan for WebGPU), the Kubernetes GPU overlays, the compose GPU override.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { parseShardArgs, type ShardConfig } from '../../services/shard/src/config.ts';
import { CUDA_PROVIDER_LIBRARIES, ortLibraryDir } from '../../services/shard/src/runner/execution-provider.ts';
import { REPO_ROOT } from '../helpers/paths.ts';
import { loadComposeWith, mergeCompose, routerServices, shardServices } from './compose-file.ts';
import { composeValidator } from './compose-schema.ts';
import { argsOf, contextSources, dockerignored, readDockerfile, stage } from './dockerfile.ts';
import { find, renderKustomization } from './kustomize.ts';
import { imageEnv, kubernetesServices } from './topology.ts';

const GPU_DOCKERFILE = 'Dockerfile.gpu';
const gpu = readDockerfile(GPU_DOCKERFILE);
const cpu = readDockerfile('Dockerfile');
const gpuImageEnv = imageEnv(path.join(REPO_ROOT, GPU_DOCKERFILE));
const runtime = gpu.stages.at(-1)!;

/** The config a `tessera shard` container of the GPU image would start with (image ENV, then the service's env). */
function shardConfig(env: Record<string, string>): ShardConfig {
  const config = parseShardArgs([], { ...gpuImageEnv, ...env });
  assert.ok(config, 'not --help');
  return config;
}
const envOf = (c: IContainer, name: string) => c.env?.find((e) => e.name === name)?.value;
const capabilities = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim());

describe('Dockerfile.gpu', () => {
  test("copies every workspace package.json before npm ci; one npm ci, production only, with onnxruntime-node's NuGet download skipped", () => {
    const manifests = stage(gpu, 'manifests');
    const copies = argsOf(manifests, 'COPY');
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
    for (const dir of pkg.workspaces.map((w) => w.replace(/\/\*$/, ''))) {
      for (const name of readdirSync(path.join(REPO_ROOT, dir)).filter((n) => existsSync(path.join(REPO_ROOT, dir, n, 'package.json')))) {
        assert.ok(copies.includes(`${dir}/${name}/package.json ${dir}/${name}/`), `Dockerfile.gpu copies ${dir}/${name}/package.json`);
      }
    }
    assert.ok(copies.includes('package.json package-lock.json .npmrc ./'));
    assert.ok(copies.includes('scripts/install-cuda.mjs scripts/'));
    assert.equal(
      argsOf(manifests, 'RUN').some((r) => r.includes('npm ci')),
      false,
      'no npm ci in the manifests stage',
    );
    // The build stage installs dev dependencies to compile (typescript), without install scripts; none of its
    // node_modules reaches the runtime, which copies only its dist/.
    const buildInstall = argsOf(stage(gpu, 'build'), 'RUN').find((r) => r.includes('npm ci'))!;
    assert.match(buildInstall, /ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts/);
    assert.deepEqual(
      argsOf(runtime, 'COPY').filter((c) => c.startsWith('--from=build')),
      ['--from=build /app/dist ./dist'],
    );
    const installs = gpu.stages
      .filter((s) => s.name !== 'build')
      .flatMap((s) =>
        argsOf(s, 'RUN')
          .filter((r) => r.includes('npm ci'))
          .map((r) => ({ stage: s, run: r })),
      );
    assert.deepEqual(
      installs.map((i) => i.stage.name),
      ['deps'],
    );
    assert.equal(installs[0]!.stage.from, 'manifests');
    assert.match(installs[0]!.run, /ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev/);
    const instructions = readFileSync(path.join(REPO_ROOT, GPU_DOCKERFILE), 'utf8')
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'));
    assert.doesNotMatch(instructions.join('\n'), /nuget|cuda12|ORT_CUDA/i, 'no NuGet path left');
  });

  test('the CUDA provider comes from `npm run gpu:cuda`, right after npm ci, into the folder the shard loads it from', () => {
    const deps = stage(gpu, 'deps');
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts['gpu:cuda'], 'node scripts/install-cuda.mjs');
    assert.match(argsOf(deps, 'RUN')[0]!, /npm ci [^&]*&& node scripts\/install-cuda\.mjs/);
    const check = argsOf(deps, 'RUN')[1]!;
    const listed = /for lib in ([^;]+);/.exec(check)?.[1]?.trim().split(/\s+/);
    assert.deepEqual(listed, CUDA_PROVIDER_LIBRARIES, 'the same list as services/shard/src/runner/cuda-libraries.ts');
    // The folder is where this checkout's onnxruntime-node loads them from, in the image's /app, on linux/x64.
    const relative = path.relative(REPO_ROOT, path.dirname(path.dirname(ortLibraryDir())));
    assert.ok(argsOf(stage(gpu, 'manifests'), 'ENV').includes(`ORT_DIR=${path.posix.join('/app', relative, 'linux', 'x64')}`));
  });

  test('the deps check fails the build without the two libraries and passes with them', (t) => {
    const script = argsOf(stage(gpu, 'deps'), 'RUN')[1]!;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-ort-dir-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const run = () => spawnSync('sh', ['-c', script], { env: { PATH: process.env.PATH, ORT_DIR: dir }, encoding: 'utf8' });
    const missing = run();
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /libonnxruntime_providers_shared\.so is missing/);
    writeFileSync(path.join(dir, CUDA_PROVIDER_LIBRARIES[0]!), '');
    assert.match(run().stderr, /libonnxruntime_providers_cuda\.so is missing/);
    writeFileSync(path.join(dir, CUDA_PROVIDER_LIBRARIES[1]!), '');
    assert.equal(run().status, 0);
  });

  test('runtime: a CUDA 13 + cuDNN 9 runtime base, the CPU image’s Node, the Vulkan loader, the driver capabilities, as the CPU image otherwise', () => {
    assert.match(gpu.globalArgs.CUDA_IMAGE!, /^nvidia\/cuda:13\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+$/);
    assert.equal(runtime.from, '${CUDA_IMAGE}');
    assert.equal(stage(gpu, 'manifests').from, stage(cpu, 'manifests').from, 'the Node image of the CPU Dockerfile');
    assert.ok(argsOf(runtime, 'COPY').includes('--from=manifests /usr/local/bin/node /usr/local/bin/node'));
    const apt = argsOf(runtime, 'RUN').find((r) => r.includes('apt-get install'))!;
    for (const pkg of ['libvulkan1', 'libegl1', 'libxext6']) assert.match(apt, new RegExp(`\\b${pkg}\\b`));
    assert.deepEqual(capabilities(gpuImageEnv.NVIDIA_DRIVER_CAPABILITIES).sort(), ['compute', 'graphics', 'utility']);
    assert.equal(gpuImageEnv.NVIDIA_VISIBLE_DEVICES, 'all');
    const cpuRuntime = cpu.stages.at(-1)!;
    assert.deepEqual(contextSources(runtime), contextSources(cpuRuntime), 'the same sources');
    for (const [k, v] of Object.entries(imageEnv())) if (k !== 'TESSERA_DOCKER_LABEL') assert.equal(gpuImageEnv[k], v, `ENV ${k} as in the CPU image`);
    for (const keyword of ['USER', 'HEALTHCHECK', 'ENTRYPOINT', 'CMD', 'VOLUME', 'EXPOSE']) {
      assert.deepEqual(argsOf(runtime, keyword), argsOf(cpuRuntime, keyword), keyword);
    }
    assert.deepEqual(argsOf(runtime, 'USER'), ['10001:10001']);
  });

  test('a shard with the image ENV alone runs cuda in float16; TESSERA_DEVICE=cpu falls back to float32 (the image pins no dtype)', () => {
    assert.equal(gpuImageEnv.TESSERA_DEVICE, 'cuda');
    assert.equal(gpuImageEnv.TESSERA_DTYPE, undefined);
    const onGpu = shardConfig({});
    assert.deepEqual([onGpu.device, onGpu.dtype, onGpu.deviceId, onGpu.modelId], ['cuda', 'float16', 0, '/models']);
    const onCpu = shardConfig({ TESSERA_DEVICE: 'cpu' });
    assert.deepEqual([onCpu.device, onCpu.dtype], ['cpu', 'float32']);
  });

  test('.dockerignore keeps every COPY source of both Dockerfiles, and drops node_modules and tests', () => {
    const patterns = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const d of [gpu, cpu])
      for (const s of d.stages) for (const src of contextSources(s)) assert.equal(dockerignored(src, patterns), false, `${src} is in the context`);
    for (const gone of ['node_modules/onnxruntime-node/package.json', 'services/shard/node_modules/x', 'services/shard/src/config.test.ts', '.git/HEAD']) {
      assert.equal(dockerignored(gone, patterns), true, `${gone} stays out`);
    }
    // the matcher itself: last match wins, `!` re-includes, `*` stays within a path segment
    assert.equal(dockerignored('a/b.so', ['a', '!a/b.so']), false);
    assert.equal(dockerignored('a/b/c.so', ['a/*.so']), false);
    assert.equal(dockerignored('a/b/c.so', ['a/**/*.so']), true);
  });
});

const GPU_OVERLAYS = [
  { overlay: 'gpu', device: 'cuda', kvLayout: 'host', driver: ['compute', 'utility'] },
  { overlay: 'gpu-webgpu', device: 'webgpu', kvLayout: 'device', driver: ['compute', 'utility', 'graphics'] },
] as const;

describe('Kubernetes GPU overlays', () => {
  for (const { overlay, device, kvLayout, driver } of GPU_OVERLAYS) {
    test(`k8s/overlays/${overlay}: one GPU per rank, ${device} in float16, driver capabilities ${driver.join(',')}; the shard's own parser accepts the pods`, () => {
      const manifests = renderKustomization(path.join(REPO_ROOT, 'k8s', 'overlays', overlay));
      const sts = find<IStatefulSet>(manifests, 'StatefulSet', 'tessera-shard');
      const config = find<IConfigMap>(manifests, 'ConfigMap', 'tessera-config');
      const shard = sts.spec!.template.spec!.containers.find((c) => c.name === 'shard')!;
      assert.equal(shard.image, 'tessera:latest-gpu');
      assert.equal(shard.resources!.limits!['nvidia.com/gpu'], '1');
      assert.equal(shard.resources!.requests!['nvidia.com/gpu'], '1');
      assert.ok(sts.spec!.template.spec!.tolerations!.some((t) => t.key === 'nvidia.com/gpu'));
      assert.equal(envOf(shard, 'TESSERA_DEVICE'), device);
      assert.equal(envOf(shard, 'TESSERA_DTYPE'), 'float16');
      assert.deepEqual(capabilities(envOf(shard, 'NVIDIA_DRIVER_CAPABILITIES')), [...driver]);
      const router = find<IDeployment>(manifests, 'Deployment', 'tessera-router').spec!.template.spec!.containers[0]!;
      assert.equal(router.resources?.limits?.['nvidia.com/gpu'], undefined);
      assert.equal(envOf(router, 'NVIDIA_VISIBLE_DEVICES'), 'void', 'the router sees no GPU');
      assert.equal(sts.spec!.replicas, Number(config.data!.TESSERA_WORLD_SIZE));
      const uris = Array.from({ length: sts.spec!.replicas! }, (_, i) => `tessera-shard-${i}.tessera-shard:50051`);
      assert.deepEqual(config.data!.TESSERA_SHARD_URIS!.split(','), uris);
      const shards = kubernetesServices(manifests).filter((s) => s.role === 'shard');
      assert.equal(shards.length, sts.spec!.replicas);
      for (const s of shards) {
        const c = shardConfig(s.env);
        assert.deepEqual([c.device, c.dtype, c.kvLayout, c.deviceId, c.worldSize], [device, 'float16', kvLayout, 0, shards.length], s.name);
      }
    });
  }
});

describe('docker-compose.gpu.yml', () => {
  test('over docker-compose.yml: validates; the GPU image; one distinct GPU per rank; the shards parse as cuda, float16 (tensor parallel)', () => {
    const validate = composeValidator();
    {
      const compose = loadComposeWith(['docker-compose.gpu.yml'], {});
      assert.ok(validate(compose), JSON.stringify(validate.errors, null, 2));
      const shards = shardServices(compose);
      assert.equal(shards.length, 2);
      shards.forEach(([name, s], rank) => {
        assert.equal(s.image, 'tessera:latest-gpu', name);
        assert.deepEqual(s.build, { context: '.', dockerfile: GPU_DOCKERFILE });
        const devices = (s.deploy as { resources: { reservations: { devices: Array<Record<string, unknown>> } } }).resources.reservations.devices;
        assert.deepEqual(devices, [{ driver: 'nvidia', device_ids: [String(rank)], capabilities: ['gpu'] }], name);
        const c = shardConfig(s.environment!);
        assert.deepEqual([c.device, c.dtype, c.kvLayout, c.rank, c.worldSize], ['cuda', 'float16', 'host', rank, shards.length], name);
      });
      const [, router] = routerServices(compose)[0]!;
      assert.equal(router.image, 'tessera:latest-gpu');
      assert.equal(router.environment!.NVIDIA_VISIBLE_DEVICES, 'void');
      assert.equal(router.deploy, undefined);
    }
  });

  test('the override loader merges mappings and refuses to guess how a sequence merges', () => {
    assert.deepEqual(mergeCompose({ a: { b: 1, c: [1] } }, { a: { d: 2 } }), { a: { b: 1, c: [1], d: 2 } });
    assert.throws(() => mergeCompose({ a: { c: [1] } }, { a: { c: [2] } }), /\.a\.c: both files set this sequence/);
  });
});
