/** What the admin CLIs share beyond edge/shared/cli.ts: the store they open from MEET_DATA_DIR, times and tables. */
import { type CliIo } from '../../shared/cli.js';
import { terminalSafe } from '../../shared/terminal.js';
import { openDatabase, type Db } from '../store/db.js';
import { DEFAULTS } from '../../../common/config.js';

export { parseCliArgs, processIo, runCli, UsageError, type CliIo } from '../../shared/cli.js';

export function openStore(io: CliIo): Db {
  return openDatabase(io.env.MEET_DATA_DIR || DEFAULTS.dataDir);
}

export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Prints rows as aligned columns (or nothing but a note when empty); each cell escaped whole (terminalSafe). */
export function printTable(
  io: CliIo,
  headers: readonly string[],
  cells: readonly (readonly string[])[],
  empty: string,
): void {
  if (cells.length === 0) {
    io.err(empty);
    return;
  }
  const rows = cells.map((row) => row.map(terminalSafe));
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  io.out(line(headers));
  for (const row of rows) io.out(line(row));
}
