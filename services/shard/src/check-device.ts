// @module `tessera check-device`: can this host run a shard on --device, and which fused LLM operators does it run there.
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { type Device, missingForDevice, ortLibraryDir } from './runner/execution-provider.ts';
import { probeOps } from './runner/op-probe.ts';

const USAGE = `usage: tessera check-device [--device cpu|cuda|webgpu] [--device-id N] [--json]
(--device defaults to $TESSERA_DEVICE, so in a GPU container it checks the configured device)
Loads the execution provider and runs onnxruntime's fused LLM operators (GroupQueryAttention,
RotaryEmbedding, SkipSimplifiedLayerNormalization, SimplifiedLayerNormalization) on it in float32
and float16, with the CPU fallback disabled. Exit status 0 when the provider runs, 1 when it cannot.`;

export interface DeviceReport {
  device: Device;
  onnxruntime: string;
  libraryDir: string;
  backends: Array<{ name: string; bundled: boolean }>;
  /** Why the provider cannot load, or null when it ran. */
  problem: string | null;
  ops: Awaited<ReturnType<typeof probeOps>>;
}

export async function checkDevice(device: Device, deviceId = 0): Promise<DeviceReport> {
  const report: DeviceReport = {
    device,
    onnxruntime: ort.env.versions.common,
    libraryDir: ortLibraryDir(),
    backends: ort.listSupportedBackends(),
    problem: missingForDevice(device),
    ops: [],
  };
  if (report.problem !== null) return report;
  report.ops = await probeOps(device, deviceId);
  // Every op failing the same way at session creation means the provider itself did not load.
  if (report.ops.every((o) => !o.supported)) report.problem = report.ops[0]?.error ?? 'no operator ran';
  return report;
}

export async function checkDeviceCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        device: { type: 'string', default: process.env.TESSERA_DEVICE || 'cpu' },
        'device-id': { type: 'string', default: '0' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    console.error(`tessera check-device: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const device = values.device as Device;
  if (!['cpu', 'cuda', 'webgpu'].includes(device)) {
    console.error(`tessera check-device: --device must be cpu, cuda or webgpu, got "${device}"`);
    return 2;
  }
  const report = await checkDevice(device, Number(values['device-id']));
  if (values.json) console.log(JSON.stringify(report, null, 1));
  else {
    console.log(`onnxruntime-node ${report.onnxruntime} (${report.libraryDir})`);
    console.log(`providers in this build: ${report.backends.map((b) => `${b.name}${b.bundled ? '' : ' (libraries installed separately)'}`).join(', ')}`);
    console.log(report.problem === null ? `${device}: OK` : `${device}: cannot run: ${report.problem}`);
    for (const o of report.ops) console.log(`  ${o.op.padEnd(34)} ${o.dtype.padEnd(8)} ${o.supported ? 'runs' : `no — ${o.error}`}`);
  }
  return report.problem === null ? 0 : 1;
}
