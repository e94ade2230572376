/**
 * Making sure Prosody is there for `npm start`. When it is missing: as root on Debian bookworm, install
 * Prosody 13 from bookworm-backports (and stop the system service the package starts, which would hold port
 * 5222); otherwise say exactly how to install it.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { $, which } from 'zx';
import { PROSODY_INSTALL_HINT } from './local-prosody.js';

async function prosodyInstalled(binary = 'prosody'): Promise<boolean> {
  return (await which(binary, { nothrow: true })) !== null;
}

export class ProsodyNotInstalledError extends Error {
  constructor(why: string) {
    super(`${why}\n${PROSODY_INSTALL_HINT}`);
  }
}

/**
 * Installs Prosody when missing and allowed (root, Debian bookworm, and MEET_PROSODY_AUTO_INSTALL not "0");
 * throws with the instructions otherwise.
 */
export async function ensureProsodyInstalled(
  log: (line: string) => void,
  autoInstall = process.env.MEET_PROSODY_AUTO_INSTALL !== '0',
): Promise<void> {
  if (await prosodyInstalled()) return;
  const debian = existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get');
  if (process.getuid?.() !== 0 || !debian || !autoInstall) {
    throw new ProsodyNotInstalledError(
      `Prosody is not installed${debian ? ' (run npm start as root once to install it, or install it yourself)' : ''}.`,
    );
  }
  log('Prosody is missing: installing prosody from bookworm-backports (apt-get)…');
  const list = '/etc/apt/sources.list.d/bookworm-backports.list';
  if (!existsSync(list)) await writeFile(list, 'deb http://deb.debian.org/debian bookworm-backports main\n');
  const apt = $({
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await apt`apt-get update`;
  await apt`apt-get install -y --no-install-recommends -t bookworm-backports prosody`;
  // The package starts a system-wide Prosody on 5222; the local stack runs its own.
  if (await which('systemctl', { nothrow: true })) await $({ nothrow: true })`systemctl disable --now prosody`;
  else await $({ nothrow: true })`service prosody stop`;
  if (!(await prosodyInstalled())) throw new ProsodyNotInstalledError('Installing Prosody did not work.');
  log('Prosody installed.');
}
