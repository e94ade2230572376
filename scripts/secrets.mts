#!/usr/bin/env tsx
/** `npm run secrets -- init <environment> <file>`: a fresh mode-0600 secrets file for a deployment. */
import { minimist } from 'zx';
import { processIo, runCli, UsageError } from '../edge/auth/admin/io.js';
import { createSecretsFile } from './lib/secrets-file.js';

const USAGE = `usage: npm run secrets -- init <environment> <file> [--ssh-public-key "<key>"]

Writes a new secrets file (mode 0600) for <environment> with freshly generated values: the jicofo and JVB
Prosody passwords, the agent signing secret and the agent sealing key pair, as TF_VAR_* lines. It never
overwrites an existing file and prints no secret. Fill in the OpenStack and S3 credentials it lists, then:
  set -a; . <file>; set +a; npx cdktf deploy <environment>-cloud <environment>-services`;

const argv = minimist(process.argv.slice(2), { boolean: ['help'], string: ['ssh-public-key'], alias: { h: 'help' } });
process.exitCode = await runCli(processIo, 'secrets', USAGE, async () => {
  if (argv.help) {
    processIo.out(USAGE);
    return;
  }
  const unknown = Object.keys(argv).filter((key) => !['_', 'help', 'h', 'ssh-public-key'].includes(key));
  if (unknown.length > 0) throw new UsageError(`unknown option --${unknown[0]}`);
  const [command, environment, file, ...extra] = argv._.map(String);
  if (command !== 'init') throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
  if (!environment || !file || extra.length > 0) throw new UsageError('init needs an environment name and a file path');
  const sshKey = argv['ssh-public-key'] as string | undefined;
  if (sshKey !== undefined && !/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( \S.*)?$/.test(sshKey)) {
    throw new UsageError('--ssh-public-key must be one OpenSSH public key line (ssh-ed25519 AAAA... comment)');
  }
  await createSecretsFile(file, environment, sshKey);
  processIo.err(`wrote ${file} (mode 0600) for "${environment}"; fill in the OpenStack and S3 credentials it lists`);
});
