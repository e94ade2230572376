/** What the admin CLIs share: their streams, the store they open from MEET_DATA_DIR, and usage errors. */
import { terminalIo, terminalSafe } from '../../shared/terminal.js';
import { openDatabase, type Db } from '../store/db.js';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Record<string, string | undefined>;
}

/** The process's streams; every line passes through terminalLines (no control or format character reaches the terminal). */
export const processIo: CliIo = terminalIo({
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
});

/** Wrong arguments: the CLI prints the message and its usage and exits 2. */
export class UsageError extends Error {}

export function openStore(io: CliIo): Db {
  return openDatabase(io.env.MEET_DATA_DIR || '.meet');
}

export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Prints rows as aligned columns (or nothing but a note when empty); each cell escaped whole (terminalSafe). */
export function printTable(io: CliIo, headers: readonly string[], cells: readonly (readonly string[])[], empty: string): void {
  if (cells.length === 0) {
    io.err(empty);
    return;
  }
  const rows = cells.map((row) => row.map(terminalSafe));
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  io.out(line(headers));
  for (const row of rows) io.out(line(row));
}

/** Runs a CLI body: 0 on success, 2 with usage on UsageError, 1 with a one-line reason on any other error. */
export async function runCli(io: CliIo, name: string, usage: string, body: () => Promise<void> | void): Promise<number> {
  try {
    await body();
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${name}: ${error.message}\n\n${usage}`);
      return 2;
    }
    io.err(`${name}: ${(error as Error).message}`);
    return 1;
  }
}
