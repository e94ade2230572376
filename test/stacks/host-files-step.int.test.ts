import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_FILES_LIMIT, HostFilesStep, hostFilesHash, INSTALLER_SCRIPTS } from '../../stacks/host-files-step.js';
import { hostFiles as host } from '../../stacks/host-files.js';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';
import { dockerStack } from './helpers.js';

describe('host files', () => {
  it("the step's hash covers the files and both installer scripts; every role's files fit the installer's environment", () => {
    const files = host('jitsi');
    const expected = createHash('sha256').update(files);
    for (const script of INSTALLER_SCRIPTS) expected.update('\0').update(readFileSync(join(REPO_ROOT, script)));
    expect(hostFilesHash(files)).toBe(expected.digest('hex'));
    expect(hostFilesHash(`${files}#`)).not.toBe(hostFilesHash(files));
    for (const role of ['jitsi', 'meet-auth', 'jvb'] as const)
      expect(Buffer.byteLength(host(role))).toBeLessThan(HOST_FILES_LIMIT / 4);
    const { stack } = dockerStack();
    const big = `meet_units\nmeet_tmpfiles x\n${'#'.repeat(HOST_FILES_LIMIT)}`;
    expect(
      () =>
        new HostFilesStep(stack, 'big', {
          hostName: 'jitsi',
          instanceId: 'i',
          address: 'a',
          user: 'u',
          bastion: 'b',
          files: big,
          script: 's',
          dependsOn: [],
        }),
    ).toThrow(
      `host files of jitsi are ${Buffer.byteLength(big)} bytes; at most ${HOST_FILES_LIMIT} fit in the installer's environment`,
    );
  });
});
