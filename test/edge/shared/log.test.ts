import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../edge/shared/log.js';

function capture() {
  const lines: string[] = [];
  const log = createLogger({
    destination: new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }),
  });
  return { log, lines };
}

describe('createLogger', () => {
  it('redacts secret fields at any of the first three levels', () => {
    const { log, lines } = capture();
    log.info(
      {
        password: 'p-top',
        token: 't-top',
        ticket: 'k-top',
        job: { sealedPassword: 's-nested', username: 'alice' },
        req: { headers: { authorization: 'Bearer a-deep', cookie: 'c-deep', 'webhook-signature': 'v1,sig' } },
        config: { signingSecrets: 'whsec_x' },
      },
      'hello',
    );
    const line = lines.join('');
    for (const secret of ['p-top', 't-top', 'k-top', 's-nested', 'a-deep', 'c-deep', 'v1,sig', 'whsec_x'])
      expect(line).not.toContain(secret);
    expect(line).toContain('[redacted]');
    expect(line).toContain('alice');
    expect(JSON.parse(line)).toMatchObject({ msg: 'hello', level: 30 });
  });

  it('logs errors with their stack under err', () => {
    const { log, lines } = capture();
    log.error({ err: new Error('boom') }, 'failed');
    expect(JSON.parse(lines[0]!).err).toMatchObject({ message: 'boom', type: 'Error' });
  });
});
