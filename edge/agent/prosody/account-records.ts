/**
 * Whole account records of a Prosody host, for backups: what mod_auth_internal_hashed stores per account (SCRAM
 * stored/server keys, salt, iteration count; never a plaintext password for our accounts) and the account's role
 * (mod_authz_internal's "account_roles" store), read and written through the admin socket with storagemanager, so
 * a restored account logs in with its old password without anyone knowing it. Socket mode (Prosody 13) only.
 *
 * Values travel inside a Lua long bracket string chosen so that the JSON cannot close it, and the JSON is checked
 * here before it is sent: nothing in a record can become code.
 */
import { z } from 'zod';
import { ProsodyUnavailableError } from './accounts.js';
import { AdminSocketConnection, type ReplResult } from './admin-socket.js';
import { luaLiteral } from './lua.js';

const scalar = z.union([z.string().max(4096), z.number(), z.boolean()]);
/** One stored table of Prosody: string keys, scalar values (or one level of nesting, as role tables have). */
const table = z.record(z.string().max(256), z.union([scalar, z.record(z.string().max(256), scalar)]));

export const accountRecord = z.strictObject({
  username: z.string().regex(/^[^\s@/"'\\<>&]{1,1023}$/u, 'must be an XMPP localpart'),
  account: table,
  roles: table.optional(),
});
export type AccountRecord = z.infer<typeof accountRecord>;

/** How many records one admin-shell line reads or writes (keeps each line well under Prosody's stanza limits). */
const RECORDS_PER_CALL = 200;

/** A Lua long bracket literal holding `text`, with a level no `]=…]` inside `text` can close. */
function longBracket(text: string): string {
  let level = 0;
  while (text.includes(`]${'='.repeat(level)}]`)) level++;
  const eq = '='.repeat(level);
  // The space keeps a final "]" of the text from closing the bracket early (JSON ignores it); a newline right after
  // the opening bracket would be dropped by Lua, and JSON never starts with one.
  return `[${eq}[${text} ]${eq}]`;
}

const opening = (domain: string) => [
  `>local sm, json, h = require"core.storagemanager", require"util.json", ${luaLiteral(domain)}`,
  `if not prosody.hosts[h] then return nil, "No such host" end`,
  `local store, roles = sm.open(h, "accounts"), sm.open(h, "account_roles")`,
];

function exportLine(domain: string, usernames: readonly string[]): string {
  return [
    ...opening(domain),
    `local out = {}`,
    `for _, u in ipairs(json.decode(${longBracket(JSON.stringify(usernames))})) do`,
    `local a = store:get(u) if a then out[#out + 1] = { username = u, account = a, roles = roles:get(u) } end end`,
    `return json.encode_array(out)`,
  ].join(' ');
}

function importLine(domain: string, records: readonly AccountRecord[]): string {
  return [
    ...opening(domain),
    `local n = 0`,
    `for _, r in ipairs(json.decode(${longBracket(JSON.stringify(records))})) do`,
    `local ok, err = store:set(r.username, r.account)`,
    `if not ok then return nil, "Could not store an account: " .. tostring(err) end`,
    `if r.roles then roles:set(r.username, r.roles) end n = n + 1 end`,
    `return true, "imported " .. n`,
  ].join(' ');
}

const listLine = (domain: string) =>
  [
    `>local um, json, h = require"core.usermanager", require"util.json", ${luaLiteral(domain)}`,
    `if not prosody.hosts[h] then return nil, "No such host" end`,
    `local names = {} for u in um.users(h) do names[#names + 1] = u end`,
    `return json.encode_array(names)`,
  ].join(' ');

function resultJson(result: ReplResult, what: string): unknown {
  const text = result.text.trim();
  if (result.ok && text.startsWith('Result: ')) {
    try {
      return JSON.parse(text.slice('Result: '.length));
    } catch {
      // fall through
    }
  }
  throw new ProsodyUnavailableError(`unexpected answer to ${what}: ${text.slice(0, 200)}`);
}

export class AccountRecords {
  readonly #connection: AdminSocketConnection;

  constructor(socketPath: string) {
    this.#connection = new AdminSocketConnection({ socketPath, commandTimeoutMs: 30_000 });
  }

  async list(domain: string): Promise<string[]> {
    const names = resultJson(await this.#connection.run(listLine(domain)), 'the account list');
    if (!Array.isArray(names) || !names.every((name) => typeof name === 'string'))
      throw new ProsodyUnavailableError('the account list is not a list of names');
    return names.sort();
  }

  async export(domain: string, usernames: readonly string[]): Promise<AccountRecord[]> {
    const out: AccountRecord[] = [];
    for (let start = 0; start < usernames.length; start += RECORDS_PER_CALL) {
      const rows = resultJson(
        await this.#connection.run(exportLine(domain, usernames.slice(start, start + RECORDS_PER_CALL))),
        'an export',
      );
      // util.json encodes an empty table as an object.
      const list = Array.isArray(rows) ? rows : [];
      for (const row of list) {
        const parsed = accountRecord.safeParse(row);
        if (!parsed.success)
          throw new ProsodyUnavailableError(
            `Prosody holds an account record this backup cannot represent: ${parsed.error.issues[0]?.message}`,
          );
        out.push(parsed.data);
      }
    }
    return out;
  }

  async import(domain: string, records: readonly AccountRecord[]): Promise<number> {
    let imported = 0;
    for (let start = 0; start < records.length; start += RECORDS_PER_CALL) {
      const batch = records.slice(start, start + RECORDS_PER_CALL);
      const result = await this.#connection.run(importLine(domain, batch));
      const match = /^OK: imported (\d+)$/.exec(result.text.trim());
      if (!match)
        throw new ProsodyUnavailableError(`unexpected answer to an import: ${result.text.trim().slice(0, 200)}`);
      imported += Number(match[1]);
    }
    return imported;
  }

  close(): void {
    this.#connection.close();
  }
}
