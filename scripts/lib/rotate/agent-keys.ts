/**
 * `npm run rotate -- agent-signing | agent-sealing` on the local stack: three steps that keep every request working,
 * each applied by the running stack (keys/loaded.json) before the next:
 *   1. the new key is added AFTER the current one: the agent accepts it (signatures made with it, seals made for
 *      it) while meet-auth still seals to the current key;
 *   2. the new key moves to the front: meet-auth seals to it (it signs with every listed secret throughout);
 *   3. once nothing in flight needs them (a delivery's timeout; for sealing, no job of the outbox still holds a
 *      password sealed to an old key), the old keys go.
 * State is the key file itself plus `keys/<file>.rotation` (the new key's fingerprint, never the key), so a run
 * that stopped anywhere is resumed by running the same command again.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../../../edge/auth/store/db.js';
import { audit } from '../../../edge/auth/store/audit.js';
import { keysDir, parseLocalKeys, readLocalKeys, SEALING_FILE, SIGNING_FILE } from '../local-keys.js';
import { generateSealingKeyPair } from '../../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../../edge/shared/signing.js';
import { replaceFiles } from '../certs/files.js';
import { fingerprintsOf, readLoaded, sealingFingerprint, signingFingerprint } from '../live-keys.js';
import { runningStackPid } from '../local-secrets.js';
import { AGENT_NAME } from '../local-stack.js';
import type { Plan } from './plan.js';

type AgentKeyKind = 'signing' | 'sealing';

export interface AgentKeyOptions {
  readonly dataDir: string;
  readonly kind: AgentKeyKind;
  readonly who: string;
  readonly err: (line: string) => void;
  /** How long to wait for the running stack to load a change. @default 20 s */
  readonly loadTimeoutMs?: number;
  /** Between steps 2 and 3: a delivery signed or sealed before step 2 has timed out by then. @default 6 s */
  readonly graceMs?: number;
  /** How long step 3 of agent-sealing waits for pending jobs sealed to an old key. @default 120 s */
  readonly sealedWaitMs?: number;
}

const FILES = { signing: SIGNING_FILE, sealing: SEALING_FILE } as const;
const generate = { signing: generateSigningSecret, sealing: () => generateSealingKeyPair().privateKey } as const;
const fingerprint = { signing: signingFingerprint, sealing: sealingFingerprint } as const;
const verb = { signing: 'signs with', sealing: 'seals to' } as const;

const markerName = (kind: AgentKeyKind) => `${FILES[kind]}.rotation`;

async function readMarker(dir: string, kind: AgentKeyKind): Promise<string | null> {
  const text = await readFile(join(dir, markerName(kind)), 'utf8').catch(() => null);
  const parsed = text === null ? null : (JSON.parse(text) as { newKey?: unknown });
  return typeof parsed?.newKey === 'string' ? parsed.newKey : null;
}

/**
 * Waits until a stack running on dataDir has loaded what the key files hold now (no stack: nothing to wait for).
 * The files are read again on every look: a rotation of the other key running at the same time changes them too.
 */
async function waitApplied(dataDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (runningStackPid(dataDir) === null) return;
    const want = JSON.stringify(fingerprintsOf(await readLocalKeys(dataDir)));
    const loaded = readLoaded(dataDir);
    if (loaded && JSON.stringify({ signing: loaded.signing, sealing: loaded.sealing }) === want) return;
    if (Date.now() > deadline)
      throw new Error(`the running local stack did not load the changed keys within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/** Jobs of the outbox that still hold a password sealed to one of `keyIds` (hex), by status. */
function sealedTo(dataDir: string, keyIds: readonly string[]): { pending: number; dead: number } {
  const db = openDatabase(dataDir);
  try {
    const rows = db
      .prepare(
        `SELECT status, sealed_password AS sealed FROM jobs WHERE server = ? AND sealed_password IS NOT NULL AND status IN ('pending', 'dead')`,
      )
      .all(AGENT_NAME) as { status: string; sealed: string }[];
    const counts = { pending: 0, dead: 0 };
    for (const row of rows) {
      // Seal layout: version(1) | keyId(8) | … (edge/shared/sealing.ts)
      const id = Buffer.from(row.sealed, 'base64url').subarray(1, 9).toString('hex');
      if (keyIds.includes(id)) counts[row.status as 'pending' | 'dead']++;
    }
    return counts;
  } finally {
    db.close();
  }
}

export async function planAgentKeyRotation(options: AgentKeyOptions): Promise<Plan> {
  const { dataDir, kind, err } = options;
  const dir = keysDir(dataDir);
  const file = FILES[kind];
  const loadTimeoutMs = options.loadTimeoutMs ?? 20_000;
  const keysOf = async () =>
    (kind === 'signing'
      ? (await readLocalKeys(dataDir)).signingSecret
      : (await readLocalKeys(dataDir)).sealingPrivateKey
    ).split(' ');
  const current = await keysOf(); // validates the files, reads only
  const marker = await readMarker(dir, kind);
  const position = marker === null ? -1 : current.findIndex((key) => fingerprint[kind](key) === marker);
  // Where an earlier run stopped: 0 = not started (or before the new key reached the file), 1, 2 = steps done.
  const done = position < 0 ? 0 : position > 0 ? 1 : current.length > 1 ? 2 : 3;

  const write = async (keys: readonly string[]) => {
    parseLocalKeys(
      dir,
      kind === 'signing' ? keys.join('\n') : (await readLocalKeys(dataDir)).signingSecret,
      kind === 'sealing' ? keys.join('\n') : (await readLocalKeys(dataDir)).sealingPrivateKey,
    );
    await replaceFiles(dir, [{ name: file, data: `${keys.join('\n')}\n`, mode: 0o600 }]);
    await waitApplied(dataDir, loadTimeoutMs);
  };
  const newKeyOf = async () => {
    const marked = await readMarker(dir, kind);
    const key = (await keysOf()).find((candidate) => fingerprint[kind](candidate) === marked);
    if (!key) throw new Error(`keys/${file} no longer holds the new key; run the rotation again to start over`);
    return key;
  };

  const steps = [
    {
      title: `generate a new ${kind} key and add it after the current one in keys/${file}: the agent accepts it, meet-auth still ${verb[kind]} the current key`,
      async run() {
        const keys = await keysOf();
        const fresh = generate[kind]();
        await replaceFiles(dir, [
          {
            name: markerName(kind),
            data: `${JSON.stringify({ newKey: fingerprint[kind](fresh), startedAt: new Date().toISOString() })}\n`,
            mode: 0o600,
          },
        ]);
        await write([...keys, fresh]);
      },
    },
    {
      title: `move the new key to the front of keys/${file}: meet-auth ${verb[kind]} it from now on`,
      async run() {
        const fresh = await newKeyOf();
        await write([fresh, ...(await keysOf()).filter((key) => key !== fresh)]);
      },
    },
    {
      title:
        kind === 'sealing'
          ? 'wait until no delivery in flight and no job of the outbox needs an old key, then remove the old keys'
          : 'wait until no delivery signed before the change can still arrive, then remove the old secrets',
      async run() {
        const fresh = await newKeyOf();
        const old = (await keysOf()).filter((key) => key !== fresh);
        if (old.length > 0) {
          if (runningStackPid(dataDir) !== null) await sleep(options.graceMs ?? 6000);
          if (kind === 'sealing') {
            const ids = old.map(sealingFingerprint);
            const deadline = Date.now() + (options.sealedWaitMs ?? 120_000);
            let counts = sealedTo(dataDir, ids);
            while (counts.pending > 0 && Date.now() < deadline) {
              err(
                `  ${counts.pending} pending job(s) still hold a password sealed to an old key; waiting for their delivery`,
              );
              await sleep(500);
              counts = sealedTo(dataDir, ids);
            }
            if (counts.pending > 0 || counts.dead > 0) {
              throw new Error(
                `${counts.pending} pending and ${counts.dead} dead job(s) still hold passwords sealed to an old key ` +
                  '(a dead one: retry it with `npm run tickets -- retry --all-dead`, or wait until its seal expires)',
              );
            }
          }
          await write([fresh]);
        }
        await rm(join(dir, markerName(kind)), { force: true });
        const db = openDatabase(dataDir);
        try {
          audit(db, {
            at: Date.now(),
            event: 'secret-rotated',
            detail: `agent-${kind} of agent ${AGENT_NAME} rotated by ${options.who}`,
          });
        } finally {
          db.close();
        }
      },
    },
  ];
  return {
    what: `agent-${kind} (agent ${AGENT_NAME})`,
    steps: steps.slice(Math.min(done, 2)),
    ...(done > 0 ? { resumed: `steps 1-${Math.min(done, 2)} of 3 were done by an earlier run` } : {}),
    onFailure:
      `Every key in keys/${file} still works: the agent accepts all of them and meet-auth ${verb[kind]} the first. ` +
      'Resume with the same command (it continues from this step); nothing needs rolling back.',
  };
}
