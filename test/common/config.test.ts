import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  DEFAULTS,
  env,
  intEnv,
  isBlank,
  LOG_LEVELS,
  logLevelEnv,
  optionalIntEnv,
  problemsOf,
  wholeNumberEnv,
} from '../../common/config.js';
import { loadAgentConfig } from '../../edge/agent/config.js';
import { loadAuthConfig } from '../../edge/auth/config.js';
import { generateSealingKeyPair } from '../../edge/shared/sealing.js';
import { loadCertsConfig } from '../../scripts/lib/certs/config.js';
import { parseEnvironment } from '../../stacks/config.js';
import { IMAGE_INPUTS } from '../../stacks/tooling/source-hash.js';

const ROOT = join(import.meta.dirname, '../..');
const parse = <T extends z.ZodType>(schema: T, value: unknown) =>
  z.object({ V: schema }).safeParse(value === undefined ? {} : { V: value });
const problems = (schema: z.ZodType, value: unknown) => {
  const result = parse(schema, value);
  return result.success ? [] : problemsOf(result.error);
};

describe('blank values', () => {
  it('"" is unset; only spaces too with trim', () => {
    expect([
      isBlank(undefined),
      isBlank(''),
      isBlank(' '),
      isBlank(' ', { trim: true }),
      isBlank('x', { trim: true }),
    ]).toEqual([true, true, false, true, false]);
    expect(parse(env(z.string().default('fallback')), '').data).toEqual({ V: 'fallback' });
    expect(parse(env(z.string().default('fallback')), '  ').data).toEqual({ V: '  ' });
    expect(parse(env(z.string().default('fallback'), { trim: true }), '  ').data).toEqual({ V: 'fallback' });
  });
});

describe('integer ranges', () => {
  it('intEnv reads as Number() does, within the range; blank is the fallback', () => {
    expect(parse(intEnv(0, 10, 7), '').data).toEqual({ V: 7 });
    expect(parse(intEnv(0, 10, 7), undefined).data).toEqual({ V: 7 });
    expect(parse(intEnv(0, 10, 7), '10').data).toEqual({ V: 10 });
    for (const bad of ['11', '-1', '2.5', 'ten']) expect(problems(intEnv(0, 10, 7), bad)).toHaveLength(1);
    expect(parse(optionalIntEnv(0, 10), '').data).toEqual({ V: undefined });
  });

  it('wholeNumberEnv takes digits only and names the value and the unit', () => {
    expect(parse(wholeNumberEnv('days', 1, 365, 30), ' ').data).toEqual({ V: 30 });
    expect(parse(wholeNumberEnv('days', 1, 365, 30), '365').data).toEqual({ V: 365 });
    expect(problems(wholeNumberEnv('days', 1, 365, 30), '1e2')).toEqual([
      'V: "1e2" must be a whole number of days from 1 to 365',
    ]);
    expect(problems(wholeNumberEnv('days', 1, 365, 30), '366')).toEqual([
      'V: "366" must be a whole number of days from 1 to 365',
    ]);
  });
});

describe('log levels', () => {
  it('pino levels with silent; blank is info', () => {
    expect(LOG_LEVELS).toEqual(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
    expect(parse(logLevelEnv(), '').data).toEqual({ V: 'info' });
    expect(parse(logLevelEnv(), 'silent').data).toEqual({ V: 'silent' });
    expect(problems(logLevelEnv(), 'loud')).toHaveLength(1);
  });
});

describe('one configuration error type for every configuration', () => {
  const thrown = (load: () => unknown) => {
    try {
      load();
    } catch (error) {
      return error;
    }
    throw new Error('loaded');
  };
  it('meet-auth, the agent, the certificates CLI and the stacks throw a ConfigError listing every problem', () => {
    const errors = {
      'Invalid meet-auth configuration': thrown(() => loadAuthConfig({ MEET_AUTH_PORT: 'x' })),
      'Invalid agent configuration': thrown(() => loadAgentConfig({ MEET_AGENT_PORT: 'x' })),
      'invalid certificate configuration': thrown(() => loadCertsConfig({})),
      'invalid environment "bad"': thrown(() => parseEnvironment({ name: 'bad' })),
    };
    for (const [title, error] of Object.entries(errors)) {
      expect(error).toBeInstanceOf(ConfigError);
      const { problems: list, message } = error as ConfigError;
      expect(list.length).toBeGreaterThan(0);
      expect(message).toBe(`${title}:\n${list.map((problem) => `  - ${problem}`).join('\n')}`);
    }
  });
});

describe('shared defaults', () => {
  it('every configuration defaults to the same data dir and XMPP domains', () => {
    expect(DEFAULTS).toEqual({ dataDir: '.meet', xmppDomain: 'meet.jitsi', authDomain: 'auth.meet.jitsi' });
    const agent = loadAgentConfig(
      { MEET_AGENT_SEALING_KEYS: generateSealingKeyPair().privateKey, MEET_PROSODY_SOCKET: '/run/p.sock' },
      { requireSigningSecrets: false },
    );
    expect(agent).toMatchObject({
      dataDir: DEFAULTS.dataDir,
      xmppDomain: DEFAULTS.xmppDomain,
      authDomain: DEFAULTS.authDomain,
    });
    expect(loadCertsConfig({ MEET_CERT_DOMAINS: 'meet.example.org' }).accountDir).toBe(join(DEFAULTS.dataDir, 'acme'));
  });
});

it('the image gets common/ (edge/Dockerfile, .dockerignore, the source hash)', () => {
  expect(readFileSync(join(ROOT, 'edge/Dockerfile'), 'utf8')).toMatch(/^COPY common \.\/common$/m);
  expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8')).toMatch(/^!common\/$/m);
  expect(IMAGE_INPUTS).toContain('common');
});
