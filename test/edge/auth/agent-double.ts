/**
 * A small real agent for the edge's tests: an HTTP server that verifies each delivery's signature with
 * edge/shared/signing.ts, opens its seal with edge/shared/sealing.ts and answers per the job protocol.
 * `behave` decides each answer, so tests can make it misbehave (500s, timeouts, pending, conflict).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobMessage } from '../../../edge/shared/job-protocol.js';
import { generateSealingKeyPair, openSeal } from '../../../edge/shared/sealing.js';
import { generateSigningSecret, parseSigningSecrets, verifyRequest } from '../../../edge/shared/signing.js';

export interface ReceivedJob {
  readonly id: string;
  readonly username: string;
  readonly password: string;
  /** 1 for the first delivery of this job id, 2 for the first repeat, … */
  readonly delivery: number;
}

export type Answer =
  | { readonly status: 'created' | 'pending' | 'conflict' | 'failed'; readonly detail?: string }
  | { readonly http: number }
  | { readonly hangMs: number };

export type Behaviour = (job: ReceivedJob) => Answer | Promise<Answer>;

export interface AgentDouble {
  readonly name: string;
  readonly url: string;
  readonly sealingPublicKey: string;
  /** The secrets the edge should sign with ("whsec_new whsec_old" during rotation). */
  readonly signingSecrets: string;
  readonly jobs: ReceivedJob[];
  /** The job ids of each delivery, in arrival order. */
  readonly deliveries: string[][];
  readonly rejected: string[];
  behave: Behaviour;
  close(): Promise<void>;
}

export async function startAgentDouble(
  name: string,
  options: { behave?: Behaviour; acceptSecrets?: string[] } = {},
): Promise<AgentDouble> {
  const keys = generateSealingKeyPair();
  const secrets = options.acceptSecrets ?? [generateSigningSecret()];
  const verifyKeys = parseSigningSecrets(secrets.join(' '));
  const deliveries = new Map<string, number>();
  const double: AgentDouble = {
    name,
    url: '',
    sealingPublicKey: keys.publicKey,
    signingSecrets: secrets.join(' '),
    jobs: [],
    deliveries: [],
    rejected: [],
    behave: options.behave ?? (() => ({ status: 'created' })),
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (key: string) => req.headers[key] as string | undefined;
      const failure = verifyRequest(verifyKeys, {
        id: header('webhook-id'),
        timestamp: header('webhook-timestamp'),
        signature: header('webhook-signature'),
        body,
      });
      if (failure || req.url !== '/jobs' || req.method !== 'POST') {
        double.rejected.push(failure ?? 'wrong route');
        res.writeHead(401).end();
        return;
      }
      // The dispatcher sends the delivery form ({"jobs": [...]}); a lone job in the original form is answered alike.
      const parsed = JSON.parse(body) as JobMessage | { jobs: JobMessage[] };
      const single = !('jobs' in parsed);
      const jobs = 'jobs' in parsed ? parsed.jobs : [parsed];
      if (single && jobs[0]!.id !== header('webhook-id')) {
        double.rejected.push('id mismatch');
        res.writeHead(400).end();
        return;
      }
      double.deliveries.push(jobs.map((job) => job.id));
      const answers = await Promise.all(
        jobs.map((job) => {
          const password = openSeal([keys.privateKey], job.sealedPassword, `${job.id}\n${job.username}`);
          const delivery = (deliveries.get(job.id) ?? 0) + 1;
          deliveries.set(job.id, delivery);
          const received = { id: job.id, username: job.username, password, delivery };
          double.jobs.push(received);
          return double.behave(received);
        }),
      );
      // One job's HTTP failure or hang is the whole delivery's.
      const refusal = answers.find((answer) => 'http' in answer);
      if (refusal && 'http' in refusal) {
        res.writeHead(refusal.http).end('internal details that must not leak');
        return;
      }
      const hang = Math.max(0, ...answers.map((answer) => ('hangMs' in answer ? answer.hangMs : 0)));
      const replies = jobs.map((job, index) => {
        const answer = answers[index]!;
        return { id: job.id, ...('status' in answer ? answer : { status: 'created' }) };
      });
      setTimeout(
        () =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify(single ? replies[0] : { jobs: replies })),
        hang,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(double, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return double;
}
