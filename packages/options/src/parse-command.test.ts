// Tests: one option table → parsing, aliases, positional, environment variables (explicit flags win), usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envVarName, UsageError, type CommandSpec } from './option-table.ts';
import { parseCommand, scrubFlagEnv, toArgv } from './parse-command.ts';
import { formatHelp } from './help-text.ts';

const command: CommandSpec = {
  name: 'demo',
  synopsis: '[MODEL] [flags]',
  options: {
    'model-id': { type: 'string', value: 'PATH', short: 'm', aliases: ['model'], help: 'the model' },
    port: { type: 'string', value: 'N', default: '8080', help: 'the port' },
    hostname: { type: 'string', aliases: ['host'], help: 'the address' },
    'max-total-tokens': { type: 'string', aliases: ['max-model-len'], help: 'limit' },
    'disable-prefix-caching': { type: 'boolean', help: 'a switch' },
    rank: { type: 'string', help: 'per process', env: false },
  },
  positional: { name: 'MODEL', option: 'model-id' },
};
const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCommand(command, argv, env);

test('variable names are TESSERA_ + the flag in upper snake case', () => {
  assert.equal(envVarName('model-id'), 'TESSERA_MODEL_ID');
  assert.equal(envVarName('world-size'), 'TESSERA_WORLD_SIZE');
});

test('both flag forms, aliases, the short flag and the positional all land on the canonical name', () => {
  for (const argv of [['--model-id', 'a.gguf'], ['--model-id=a.gguf'], ['--model', 'a.gguf'], ['-m', 'a.gguf'], ['a.gguf']]) {
    assert.equal(parse(argv).values.get('model-id'), 'a.gguf', argv.join(' '));
  }
  const v = parse(['--host', '::', '--max-model-len', '512', '--disable-prefix-caching']).values;
  assert.deepEqual(
    [...v],
    [
      ['hostname', '::'],
      ['max-total-tokens', '512'],
      ['disable-prefix-caching', 'true'],
    ],
  );
});

test('--help / -h and --version are reported, not errors, whatever else is given', () => {
  assert.equal(parse(['-h']).help, true);
  assert.equal(parse(['x.gguf', '--help']).help, true);
  assert.equal(parse(['--version']).version, true);
});

test('usage errors are one line: unknown flag with the nearest name, missing value, value to a switch, stray positional', () => {
  const fails = (argv: string[], re: RegExp) =>
    assert.throws(
      () => parse(argv),
      (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n'),
      argv.join(' '),
    );
  fails(['--max-totl-tokens', '5'], /^unknown flag --max-totl-tokens \(did you mean --max-total-tokens\?\)$/);
  fails(['--prot', '5'], /did you mean --port\?/);
  fails(['--foo'], /^unknown flag --foo; see 'tessera demo --help'$/);
  fails(['--model-id'], /^--model-id needs a value$/);
  fails(['--model-id', '--port', '1'], /^--model-id needs a value$/);
  fails(['--disable-prefix-caching=yes'], /takes no value/);
  fails(['a', 'b'], /unexpected argument "b"/);
  fails(['a', '--model-id', 'b'], /MODEL given twice/);
  assert.throws(() => parseCommand({ ...command, positional: undefined }, ['a']), /unexpected argument "a"/);
});

test('only flags the command knows are read from the environment; empty values are ignored; values stay intact', () => {
  const env = { TESSERA_PORT: '9000', TESSERA_NOT_A_FLAG: 'x', TESSERA_HOSTNAME: '', TESSERA_MODEL_ID: '--odd/path', TESSERA_RANK: '3' };
  assert.deepEqual(
    [...parse([], env).values],
    [
      ['model-id', '--odd/path'],
      ['port', '9000'],
    ],
  );
});

test('an explicit flag (or the positional, or an alias) wins over its variable', () => {
  const env = { TESSERA_PORT: '9000', TESSERA_HOSTNAME: '0.0.0.0', TESSERA_MODEL_ID: '/env/model' };
  const p = parse(['--port', '1234', 'cli.gguf', '--host', '::'], env);
  assert.equal(p.values.get('port'), '1234');
  assert.equal(p.values.get('hostname'), '::');
  assert.equal(p.values.get('model-id'), 'cli.gguf');
  assert.deepEqual([...p.explicit].sort(), ['hostname', 'model-id', 'port']);
});

test('switches from the environment: true-ish turns on, false-ish leaves off, anything else is an error naming the variable', () => {
  assert.equal(parse([], { TESSERA_DISABLE_PREFIX_CACHING: 'yes' }).values.get('disable-prefix-caching'), 'true');
  assert.equal(parse([], { TESSERA_DISABLE_PREFIX_CACHING: '0' }).values.has('disable-prefix-caching'), false);
  assert.throws(() => parse([], { TESSERA_DISABLE_PREFIX_CACHING: 'maybe' }), /TESSERA_DISABLE_PREFIX_CACHING must be true or false/);
});

test('toArgv re-serialises for a child: switches bare, values in the = form', () => {
  assert.deepEqual(
    toArgv(
      [
        ['port', '1'],
        ['disable-prefix-caching', 'true'],
        ['model-id', '-x'],
      ],
      command,
    ),
    ['--port=1', '--disable-prefix-caching', '--model-id=-x'],
  );
  assert.equal(parse(toArgv([['model-id', '-x']], command)).values.get('model-id'), '-x');
});

test('scrubFlagEnv removes exactly the named flags’ variables', () => {
  const env: NodeJS.ProcessEnv = { TESSERA_RANK: '1', TESSERA_PORT: '1', TESSERA_GIT_SHA: 'abc' };
  scrubFlagEnv(env, ['rank', 'port']);
  assert.deepEqual(env, { TESSERA_GIT_SHA: 'abc' });
});

test('--help lists every flag with its aliases, default and the environment rule', () => {
  const help = formatHelp(command);
  for (const name of Object.keys(command.options)) assert.match(help, new RegExp(`--${name}\\b`));
  assert.match(help, /-m, --model-id, --model PATH/);
  assert.match(help, /the port \(default 8080\)/);
  assert.match(help, /TESSERA_MODEL_ID/);
  assert.match(help, /--version/);
});
