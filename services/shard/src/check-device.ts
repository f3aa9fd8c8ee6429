// @module `tessera check-device`: can this host run a shard on --device, and which fused LLM operators does it run there.
import { type CommandSpec, formatHelp, parseCommand, UsageError } from '@tessera/options';
import * as ort from 'onnxruntime-node';
import { type Device, missingForDevice, ortLibraryDir } from './runner/execution-provider.ts';
import { probeOps } from './runner/op-probe.ts';

export const CHECK_DEVICE_COMMAND: CommandSpec = {
  name: 'check-device',
  synopsis: '[--device cpu|cuda|webgpu] [--device-id N] [--json]',
  summary: `Loads the execution provider and runs onnxruntime's fused LLM operators (GroupQueryAttention,
RotaryEmbedding, SkipSimplifiedLayerNormalization, SimplifiedLayerNormalization) on it in float32
and float16, with the CPU fallback disabled. Exit status 0 when the provider runs, 1 when it cannot.`,
  options: {
    device: {
      type: 'string',
      value: 'cpu|cuda|webgpu',
      default: 'cpu',
      help: 'the provider to check (TESSERA_DEVICE: a GPU container checks its configured device)',
    },
    'device-id': { type: 'string', value: 'N', default: '0', help: 'which GPU' },
    json: { type: 'boolean', help: 'print the report as JSON', env: false },
  },
};

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
  let device: Device;
  let deviceId: number;
  let json: boolean;
  try {
    const { values, help } = parseCommand(CHECK_DEVICE_COMMAND, argv, process.env);
    if (help) {
      console.log(formatHelp(CHECK_DEVICE_COMMAND));
      return 0;
    }
    device = (values.get('device') ?? 'cpu') as Device;
    if (!['cpu', 'cuda', 'webgpu'].includes(device)) throw new UsageError(`--device must be cpu, cuda or webgpu, got "${device}"`);
    deviceId = Number(values.get('device-id') ?? '0');
    if (!Number.isInteger(deviceId) || deviceId < 0) throw new UsageError(`--device-id must be an integer ≥ 0, got "${values.get('device-id')}"`);
    json = values.has('json');
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tessera check-device: ${err.message}`);
    return 2;
  }
  const report = await checkDevice(device, deviceId);
  if (json) console.log(JSON.stringify(report, null, 1));
  else {
    console.log(`onnxruntime-node ${report.onnxruntime} (${report.libraryDir})`);
    console.log(`providers in this build: ${report.backends.map((b) => `${b.name}${b.bundled ? '' : ' (libraries installed separately)'}`).join(', ')}`);
    console.log(report.problem === null ? `${device}: OK` : `${device}: cannot run: ${report.problem}`);
    for (const o of report.ops) console.log(`  ${o.op.padEnd(34)} ${o.dtype.padEnd(8)} ${o.supported ? 'runs' : `no — ${o.error}`}`);
  }
  return report.problem === null ? 0 : 1;
}
