// @module `tessera generate-model`: writes a generated (untrained) test model directory.
import { writeGeneratedModel } from '@tessera/model-files';
import { FlagError, intFlag, parseFlags } from './flags.ts';

export async function generateModelCommand(argv: string[]): Promise<number> {
  try {
    const { values } = parseFlags(argv);
    if (values.has('help')) {
      console.log('usage: tessera generate-model --out DIR [--preset tiny|50m|1b|tp4] [--seed N]');
      return 0;
    }
    const out = values.get('out');
    if (!out) throw new FlagError('--out DIR is required');
    const dir = await writeGeneratedModel(out, {
      preset: values.get('preset') ?? 'tiny',
      seed: intFlag(values, 'seed', 1234),
      onProgress: (message: string) => console.error(message),
    });
    console.log(dir);
    return 0;
  } catch (err) {
    console.error(`tessera generate-model: ${(err as Error).message}`);
    return 2;
  }
}
