// @module `tessera generate-model`: writes a generated (untrained) test model directory.
import { writeGeneratedModel } from '@tessera/model-files';
import { formatHelp, parseCommand, UsageError, type CommandSpec } from '@tessera/options';

export const GENERATE_MODEL_COMMAND: CommandSpec = {
  name: 'generate-model',
  synopsis: '--out DIR [--preset tiny|50m|1b|tp4] [--seed N]',
  summary: 'Writes a generated, untrained Llama (deterministic weights, a real byte-level BPE tokenizer) for tests and benchmarks.',
  options: {
    out: { type: 'string', value: 'DIR', help: 'directory to write (required)', env: false },
    preset: { type: 'string', value: 'NAME', default: 'tiny', help: 'tiny | 50m | 1b | tp4', env: false },
    seed: { type: 'string', value: 'N', default: '1234', help: 'weights seed', env: false },
  },
};

export async function generateModelCommand(argv: string[]): Promise<number> {
  let out: string;
  let preset: string;
  let seed: number;
  try {
    const { values, help } = parseCommand(GENERATE_MODEL_COMMAND, argv);
    if (help) {
      console.log(formatHelp(GENERATE_MODEL_COMMAND));
      return 0;
    }
    if (!values.get('out')) throw new UsageError('--out DIR is required');
    out = values.get('out')!;
    preset = values.get('preset') ?? 'tiny';
    seed = Number(values.get('seed') ?? 1234);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be an integer ≥ 0, got "${values.get('seed')}"`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tessera generate-model: ${err.message}`);
    return 2;
  }
  try {
    const dir = await writeGeneratedModel(out, { preset, seed, onProgress: (message: string) => console.error(message) });
    console.log(dir);
    return 0;
  } catch (err) {
    console.error(`tessera generate-model: ${(err as Error).message}`);
    return 1;
  }
}
