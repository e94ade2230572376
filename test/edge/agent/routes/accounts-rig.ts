/**
 * The agent of the account-route tests and the requests they send: a real agent app on a real Prosody (13, or 0.12
 * through prosodyctl), requests signed and sealed as `npm run accounts` sends them, and live XMPP sessions.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { client } from '@xmpp/client';
import type { createAgentApp } from '../../../../edge/agent/app.js';
import { ProsodyctlAccounts } from '../../../../edge/agent/prosody/prosodyctl-accounts.js';
import { ACCOUNTS_PATHS, resetSealContext } from '../../../../edge/shared/accounts-protocol.js';
import { createLogger } from '../../../../edge/shared/log.js';
import { generateSealingKeyPair, seal } from '../../../../edge/shared/sealing.js';
import { generateSigningSecret, parseSigningSecrets, signRequest } from '../../../../edge/shared/signing.js';
import { startAgentRig, type AgentRig } from '../../../support/agent-rig.js';
import { ensureProsody012 } from '../../../support/prosody012.js';
import type { TestProsody } from '../../../support/prosody.js';

export const sealing = generateSealingKeyPair();
export const keys = parseSigningSecrets(generateSigningSecret());
export const stranger = parseSigningSecrets(generateSigningSecret());

export type App = ReturnType<typeof createAgentApp>;

export interface Agent extends AgentRig {
  readonly logLines: string[];
}

export async function startAgent(version: '13' | '0.12'): Promise<Agent> {
  const p012 = version === '0.12' ? await ensureProsody012() : undefined;
  const logLines: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  });
  const rig = await startAgentRig({
    sealingKeys: [sealing.privateKey],
    signingKeys: keys,
    log,
    name: 'agent-accounts-',
    ...(p012
      ? {
          prosody: { prosodyBinary: p012.prosody, prosodyctlBinary: p012.prosodyctl },
          accounts: (prosody: TestProsody) =>
            new ProsodyctlAccounts({ configPath: prosody.configPath, prosodyctl: p012.prosodyctl }),
        }
      : {}),
  });
  return { ...rig, logLines };
}

export interface Signed {
  readonly path: string;
  readonly init: RequestInit & { headers: Record<string, string>; body: string };
}

/** A signed request as `npm run accounts` sends it: a fresh id, the password (if any) sealed under that id. */
export function signed(
  path: string,
  body: object,
  options: { id?: string; now?: Date; signWith?: Buffer[] } = {},
): Signed {
  const id = options.id ?? randomUUID();
  const text = JSON.stringify(body);
  return {
    path,
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(options.signWith ?? keys, id, text, options.now) },
      body: text,
    },
  };
}

export function resetRequest(
  username: string,
  password: string,
  options: { id?: string; context?: string } = {},
): Signed {
  const id = options.id ?? randomUUID();
  const sealedPassword = seal(sealing.publicKey, password, options.context ?? resetSealContext(id, username));
  return signed(ACCOUNTS_PATHS.resetPassword, { username, sealedPassword }, { id });
}

export async function send(app: App, request: Signed): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await app.request(request.path, request.init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Opens an XMPP session and resolves `ended` when the server closes it. */
export async function openSession(port: number, username: string, password: string) {
  const xmpp = client({ service: `xmpp://127.0.0.1:${port}`, domain: 'meet.jitsi', username, password });
  xmpp.reconnect.stop();
  xmpp.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => xmpp.once('disconnect', () => resolve()));
  await xmpp.start();
  return { ended, stop: () => xmpp.stop().catch(() => undefined) };
}
