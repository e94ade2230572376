#!/usr/bin/env tsx
/** `npm run secrets -- init <environment> <file>`: a fresh mode-0600 secrets file for a deployment. */
import { parseCliArgs, processIo, runCli, UsageError } from '../edge/shared/cli.js';
import { SHELL_NAME } from '../stacks/config.js';
import { createSecretsFile } from './lib/secrets-file.js';

const USAGE = `usage: npm run secrets -- init <environment> <file> [--ssh-user <shell name>]

Writes a new secrets file (mode 0600) for <environment> with freshly generated values: the jicofo and JVB
Prosody passwords, the agent signing secret, the agent sealing key pair, the metrics token and the backup
key, as TF_VAR_* lines, and with --ssh-user your Cloud VPS shell name (TF_VAR_ssh_user: the stacks ssh to
the hosts as it). It never overwrites an existing file and prints no secret. Fill in the OpenStack and S3
credentials it lists, then:
  set -a; . <file>; set +a; npx cdktf deploy <environment>-cloud <environment>-services`;

process.exitCode = await runCli(processIo, 'secrets', USAGE, async () => {
  const { values: argv, positionals } = parseCliArgs(process.argv.slice(2), {
    help: { type: 'boolean', short: 'h' },
    'ssh-user': { type: 'string' },
  });
  if (argv.help) {
    processIo.out(USAGE);
    return;
  }
  const [command, environment, file, ...extra] = positionals;
  if (command !== 'init') throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
  if (!environment || !file || extra.length > 0) throw new UsageError('init needs an environment name and a file path');
  const sshUser = argv['ssh-user'];
  if (sshUser !== undefined && !SHELL_NAME.test(sshUser)) {
    throw new UsageError(
      `--ssh-user "${sshUser}" is not a shell name (lower-case letters, digits, "_" and "-"; your Cloud VPS login)`,
    );
  }
  await createSecretsFile(file, environment, sshUser);
  processIo.err(`wrote ${file} (mode 0600) for "${environment}"; fill in the OpenStack and S3 credentials it lists`);
});
