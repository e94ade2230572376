import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The environment tables of docs/ against the code: every MEET_* name the code uses has a row, every row a user. */

const ROOT = join(import.meta.dirname, '..');
const SOURCE_DIRS = ['edge', 'scripts', 'common', 'stacks'];
const SOURCE_FILE = /\.(ts|mts|cjs|sh)$/;
const SKIP_DIRS = new Set(['node_modules', 'providers', '.gen']);
const NAME = /\bMEET_[A-Z0-9_]*[A-Z0-9]\b/g;

/** MEET_* names in the code that are not environment variables. */
const NOT_VARIABLES: Readonly<Record<string, string>> = {
  MEET_AUTH_COMMAND: 'a constant: meet-auth container command (stacks/heap-flags.ts)',
  MEET_ROOT: "a constant: the hosts' /srv/meet (stacks/layout.ts)",
  MEET_EOF: 'the heredoc delimiter of the user data (stacks/cloud-init.ts)',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : sourceFiles(path);
    return SOURCE_FILE.test(entry.name) ? [path] : [];
  });
}

/** Every MEET_* name in the sources and test/support/; elsewhere in test/ only what a test reads from process.env. */
const TEST_ENV_READ = /process\.env(?:\.|\[['"])(MEET_[A-Z0-9_]*[A-Z0-9])\b/g;

/** name -> the files that mention it */
function namesInCode(): Map<string, string[]> {
  const names = new Map<string, string[]>();
  const add = (name: string, file: string) =>
    names.set(name, [...new Set([...(names.get(name) ?? []), relative(ROOT, file)])]);
  for (const file of [...SOURCE_DIRS, 'test/support'].flatMap((dir) => sourceFiles(join(ROOT, dir)))) {
    for (const name of readFileSync(file, 'utf8').match(NAME) ?? []) add(name, file);
  }
  for (const file of sourceFiles(join(ROOT, 'test'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(TEST_ENV_READ)) add(match[1]!, file);
  }
  return names;
}

/** name -> the docs whose environment tables have a row for it (a row's first cell may name several). */
function namesInDocTables(
  docs: ReadonlyArray<{ readonly file: string; readonly text: string }>,
): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const { file, text } of docs) {
    let inEnvTable = false;
    for (const line of text.split('\n')) {
      if (!line.startsWith('|')) {
        inEnvTable = false;
        continue;
      }
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      if (
        /^name$/i.test(cells[0] ?? '') &&
        /^service$/i.test(cells[1] ?? '') &&
        /^default$/i.test(cells[2] ?? '') &&
        /^meaning$/i.test(cells[3] ?? '')
      ) {
        inEnvTable = true;
        continue;
      }
      if (!inEnvTable) continue;
      for (const name of (cells[0] ?? '').match(NAME) ?? []) names.set(name, [...(names.get(name) ?? []), file]);
    }
  }
  return names;
}

function docs() {
  return readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => ({ file: `docs/${name}`, text: readFileSync(join(ROOT, 'docs', name), 'utf8') }));
}

describe('docs: environment variable tables', () => {
  const inCode = namesInCode();
  const inDocs = namesInDocTables(docs());

  it('finds the variables the services read (the scan works)', () => {
    for (const name of [
      'MEET_AGENTS',
      'MEET_AGENT_SEALING_KEYS',
      'MEET_CERT_DOMAINS',
      'MEET_BACKUP_KEY_FILE',
      'MEET_WAIT_SECONDS',
    ]) {
      expect(inCode.has(name), name).toBe(true);
    }
    expect(inDocs.size).toBeGreaterThan(40);
  });

  it('has a row (name, service, default, meaning) for every MEET_* variable the code uses', () => {
    const missing = [...inCode]
      .filter(([name]) => !(name in NOT_VARIABLES) && !inDocs.has(name))
      .map(([name, files]) => `${name} (${files.join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('documents no variable the code does not use', () => {
    const stale = [...inDocs]
      .filter(([name]) => !inCode.has(name) || name in NOT_VARIABLES)
      .map(([name, files]) => `${name} (${files.join(', ')})`);
    expect(stale).toEqual([]);
  });

  it('keeps the list of names that are not variables true', () => {
    for (const name of Object.keys(NOT_VARIABLES)) expect(inCode.has(name), `${name} no longer in the code`).toBe(true);
  });

  it('reads only rows of tables headed name | service | default | meaning', () => {
    const sample = [
      '| name | service | default | meaning |',
      '|---|---|---|---|',
      '| `MEET_A` / `MEET_B` | x | 1 | y |',
      '',
      '| path | what |',
      '| `MEET_C` | z |',
    ].join('\n');
    expect([...namesInDocTables([{ file: 'sample.md', text: sample }]).keys()]).toEqual(['MEET_A', 'MEET_B']);
  });
});

describe('comments stand alone', () => {
  // Documents that live outside this repository (a session's notes, design and reference files, issue numbers).
  const OUTSIDE = [
    /ARCHITECTURE\.md/,
    /\/work\//,
    /\bshared\/(design|reference|seed)\b/,
    /\bissues? (show )?#?\d+\b/i,
    /\b(accounts-and-invites|prosody-measured|jitsi-docker|cloud-vps|style-anchors)\.md\b/,
  ];

  it('no source, script or test refers to a document outside the repository', () => {
    const self = relative(ROOT, import.meta.filename);
    const hits = [...SOURCE_DIRS, 'test']
      .flatMap((dir) => sourceFiles(join(ROOT, dir)))
      .filter((file) => relative(ROOT, file) !== self)
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .flatMap((line, index) =>
            OUTSIDE.some((pattern) => pattern.test(line))
              ? [`${relative(ROOT, file)}:${index + 1}: ${line.trim()}`]
              : [],
          ),
      );
    expect(hits).toEqual([]);
  });
});

describe('README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('starts with the two set-up commands and stays a short way in', () => {
    const top = readme.split('\n').slice(0, 40).join('\n');
    expect(top).toContain('npm ci && npm start');
    expect(top).toContain('bash .ci/setup && npm test');
    expect(readme.split(/\s+/).filter(Boolean).length).toBeLessThan(1500);
  });

  it('links only to docs that exist', () => {
    const targets = [...readme.matchAll(/\]\((docs\/[^)#]+)/g)].map((match) => match[1]!);
    expect(targets.length).toBeGreaterThan(4);
    for (const target of targets)
      expect(() => readdirSync(join(ROOT, target.endsWith('/') ? target : join(target, '..'))), target).not.toThrow();
    for (const target of targets.filter((t) => t.endsWith('.md')))
      expect(() => readFileSync(join(ROOT, target)), target).not.toThrow();
  });
});
