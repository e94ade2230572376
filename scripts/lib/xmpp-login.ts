/**
 * Proves an account by logging in to a real Prosody over XMPP (plain TCP) with @xmpp/client.
 * Resolves true when the login succeeds, false when Prosody says not-authorized; anything else throws.
 *
 * SCRAM-SHA-1 (the default, what Jitsi's web client uses) costs ~1 s of client-side PBKDF2 in @xmpp's pure
 * WebCrypto loop; PLAIN has Prosody check the same stored SCRAM keys at once, so bulk checks use it.
 * @xmpp's PLAIN encodes with btoa (Latin-1 only), so a non-ASCII name or password always goes through SCRAM.
 */
import { client } from '@xmpp/client';

export interface XmppLogin {
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** @default "meet.jitsi" */
  readonly domain?: string;
  /** @default "SCRAM-SHA-1" */
  readonly mechanism?: 'SCRAM-SHA-1' | 'PLAIN';
}

export async function xmppLogin({
  port,
  username,
  password,
  domain = 'meet.jitsi',
  mechanism: wanted = 'SCRAM-SHA-1',
}: XmppLogin): Promise<boolean> {
  const mechanism = /^[\x20-\x7e]*$/.test(username + password) ? wanted : 'SCRAM-SHA-1';
  const xmpp = client({
    service: `xmpp://127.0.0.1:${port}`,
    domain,
    credentials: async (authenticate, offered) => {
      if (!offered.includes(mechanism))
        throw new Error(`Prosody does not offer ${mechanism} (offers ${offered.join(', ')})`);
      await authenticate({ username, password }, mechanism);
    },
  });
  xmpp.reconnect.stop();
  // The client also emits failures as 'error' events; start()'s rejection is the one we judge by.
  xmpp.on('error', () => undefined);
  try {
    await xmpp.start();
    return true;
  } catch (error) {
    if ((error as { condition?: string }).condition === 'not-authorized') return false;
    throw error;
  } finally {
    await xmpp.stop().catch(() => undefined);
  }
}

/** Logs many accounts in, a few at a time (PLAIN), and returns the usernames whose login failed. */
export async function failedLogins(
  port: number,
  accounts: ReadonlyArray<{ username: string; password: string }>,
  parallel = 16,
): Promise<string[]> {
  const failed: string[] = [];
  const queue = [...accounts];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        if (!(await xmppLogin({ port, ...next, mechanism: 'PLAIN' }))) failed.push(next.username);
      }
    }),
  );
  return failed;
}
