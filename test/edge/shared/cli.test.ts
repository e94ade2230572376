import { expect, it } from 'vitest';
import { EXIT, ExitStatus, parseCliArgs, runCli, UsageError, type CliIo } from '../../../edge/shared/cli.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  limit: { type: 'string' },
} as const;

function capture(): CliIo & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (line) => lines.push(`out: ${line}`), err: (line) => lines.push(`err: ${line}`), env: {} };
}

it('parses strictly: options, short aliases and positionals as typed (no number coercion)', () => {
  const parsed = parseCliArgs(['list', '-h', '--json', '--limit', '5', '010'], OPTIONS);
  expect(parsed.values).toEqual({ help: true, json: true, limit: '5' });
  expect(parsed.positionals).toEqual(['list', '010']);
  expect(parseCliArgs(['--', '--json'], OPTIONS).positionals).toEqual(['--json']);
});

it('an unknown option, a missing value or an unwanted value is a UsageError naming the option as typed', () => {
  const problem = (args: string[], words?: { unknown: string }) => {
    try {
      parseCliArgs(args, OPTIONS, words);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    }
    throw new Error('parsed');
  };
  expect(problem(['list', '--bogus'])).toBe('unknown option --bogus');
  expect(problem(['--bogus=1'])).toBe('unknown option --bogus');
  expect(problem(['-x'])).toBe('unknown option -x');
  expect(problem(['--limit'])).toBe('--limit needs a value');
  expect(problem(['--json=yes'])).toBe('--json takes no value');
  expect(problem(['--nope'], { unknown: 'unexpected argument' })).toBe('unexpected argument --nope');
});

it('runCli: 0 done (or the status the body returns), 2 with the usage on UsageError, 1 with the reason otherwise', async () => {
  const done = capture();
  expect(await runCli(done, 'tool', 'usage: tool', () => done.out('fine'))).toBe(EXIT.done);
  expect(done.lines).toEqual(['out: fine']);
  expect(await runCli(capture(), 'tool', 'usage: tool', () => new ExitStatus(EXIT.tempFail))).toBe(75);
  expect(await runCli(capture(), 'tool', 'usage: tool', () => 1)).toBe(0);
  const usage = capture();
  expect(await runCli(usage, 'tool', 'usage: tool', () => parseCliArgs(['--bogus'], OPTIONS))).toBe(2);
  expect(usage.lines).toEqual(['err: tool: unknown option --bogus\n\nusage: tool']);
  const failed = capture();
  expect(
    await runCli(failed, 'tool', 'usage: tool', async () => {
      throw new Error('the disk is on fire');
    }),
  ).toBe(1);
  expect(failed.lines).toEqual(['err: tool: the disk is on fire']);
});
