/** The agent meet-auth delivers to in the edge bench: the real one with Prosody, or a bench-local signed receiver. */
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { HEAP_FLAGS } from '../../../stacks/heap-flags.js';
import { generateSealingKeyPair, openSeal } from '../../../edge/shared/sealing.js';
import { generateSigningSecret, parseSigningSecrets, verifyRequest } from '../../../edge/shared/signing.js';
import { freePort } from '../../lib/free-port.js';
import { startService, type Service } from './services.js';

/** The agent's production node flags, the image's and the stacks' own (chosen with this bench: docs/decisions/heap-flags.md). */
export const AGENT_NODE_FLAGS: readonly string[] = HEAP_FLAGS.agent;

export interface Agent {
  readonly kind: string;
  readonly url: string;
  readonly sealingPublicKey: string;
  readonly signingSecret: string;
  readonly service?: Service;
  close(): Promise<void>;
}

/** The real agent from dist/ in its own process, with a real Prosody (the other half of the system). */
export async function startRealAgent(dataDir: string): Promise<Agent> {
  const { startLocalProsody } = await import('../../lib/local-prosody.js');
  const signingSecret = generateSigningSecret();
  const sealing = generateSealingKeyPair();
  const prosody = await startLocalProsody({ dir: join(dataDir, 'prosody'), c2sPort: await freePort() });
  try {
    const flags = process.env.MEET_BENCH_AGENT_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? AGENT_NODE_FLAGS;
    const argv = [...flags, 'dist/edge/agent/main.js'];
    const service = await startService(
      'agent',
      argv,
      {
        MEET_DATA_DIR: dataDir,
        MEET_AGENT_PORT: String(await freePort()),
        MEET_AGENT_SIGNING_SECRETS: signingSecret,
        MEET_AGENT_SEALING_KEYS: sealing.privateKey,
        MEET_PROSODY_SOCKET: prosody.socketPath,
        MEET_XMPP_DOMAIN: prosody.domain,
        MEET_LOG_LEVEL: 'warn',
      },
      process.env.MEET_BENCH_AGENT_STDOUT,
    );
    return {
      kind: `real agent (node ${argv.join(' ')}) + Prosody 13`,
      url: service.url,
      sealingPublicKey: sealing.publicKey,
      signingSecret,
      service,
      close: async () => {
        await service.stop();
        await prosody.stop();
      },
    };
  } catch (error) {
    await prosody.stop();
    throw error;
  }
}

/** A receiver that checks signatures and opens seals like the agent, and answers "created". */
export async function startLocalReceiver(): Promise<Agent> {
  const signingSecret = generateSigningSecret();
  const keys = parseSigningSecrets(signingSecret);
  const sealing = generateSealingKeyPair();
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const h = (name: string) => req.headers[name] as string | undefined;
      if (
        verifyRequest(keys, {
          id: h('webhook-id'),
          timestamp: h('webhook-timestamp'),
          signature: h('webhook-signature'),
          body,
        })
      ) {
        res.writeHead(401).end();
        return;
      }
      const job = JSON.parse(body) as { id: string; username: string; sealedPassword: string };
      openSeal([sealing.privateKey], job.sealedPassword, `${job.id}\n${job.username}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: job.id, status: 'created' }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    kind: 'bench-local signed receiver',
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sealingPublicKey: sealing.publicKey,
    signingSecret,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
