// @module Tests: JSON logs by default off a TTY, pretty on a TTY, TESSERA_LOG_FORMAT overrides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wantsPrettyLogs } from './logging.ts';

test('pretty exactly on a TTY unless TESSERA_LOG_FORMAT says otherwise', () => {
  assert.equal(wantsPrettyLogs({}, true), true);
  assert.equal(wantsPrettyLogs({}, false), false);
  assert.equal(wantsPrettyLogs({ TESSERA_LOG_FORMAT: 'json' }, true), false);
  assert.equal(wantsPrettyLogs({ TESSERA_LOG_FORMAT: 'pretty' }, false), true);
});

test('createLogger writes JSON lines with the service, or readable lines when pretty', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const entry = fileURLToPath(new URL('./logging.ts', import.meta.url));
  const run = (format: string) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import(${JSON.stringify(entry)}).then((m) => m.createLogger({ service: 'shard', base: { rank: 1 } }).info({ layer: 3 }, 'hello'))`,
      ],
      {
        env: { ...process.env, TESSERA_LOG_FORMAT: format },
        encoding: 'utf8',
      },
    ).stdout;
  const line = JSON.parse(run('json').trim());
  assert.equal(line.service, 'shard');
  assert.equal(line.rank, 1);
  assert.equal(line.layer, 3);
  assert.equal(line.msg, 'hello');
  const pretty = run('pretty');
  assert.match(pretty, /INFO/);
  assert.match(pretty, /hello/);
  assert.doesNotMatch(pretty, /^\{/);
});
