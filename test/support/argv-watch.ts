/**
 * Watches every process's argv (/proc/<pid>/cmdline) for a secret while something runs, so a test can prove
 * that no password ever appears on a command line (where `ps` and audit logs would show it).
 */
import { readdir, readFile } from 'node:fs/promises';

export interface ArgvWatch {
  /** Processes whose argv contained the secret, as "pid: argv". */
  readonly hits: string[];
  /** How many full sweeps of /proc were made. */
  sweeps: number;
  stop(): Promise<void>;
}

export function watchArgv(secret: string, everyMs = 2): ArgvWatch {
  const needle = Buffer.from(secret);
  let running = true;
  const watch: ArgvWatch = {
    hits: [],
    sweeps: 0,
    stop: async () => {
      running = false;
      await loop;
    },
  };
  const loop = (async () => {
    while (running) {
      for (const pid of await readdir('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        const argv = await readFile(`/proc/${pid}/cmdline`).catch(() => undefined);
        if (argv?.includes(needle)) watch.hits.push(`${pid}: ${argv.toString().replaceAll('\0', ' ')}`);
      }
      watch.sweeps += 1;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return watch;
}
