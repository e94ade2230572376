/**
 * POSTs one signed job to an agent over node:http(s) with keep-alive, and returns its status and parsed JSON.
 * Not fetch: under a burst, building WHATWG Request/Response/Headers objects and web streams per job cost more
 * CPU than everything else the dispatcher does for it. One job per request, exactly as the protocol says.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface AgentReply {
  readonly status: number;
  /** The parsed body, or null when it is not JSON (or not read, for a status other than 200). */
  readonly json: unknown;
}

/** The agent did not answer within the timeout. */
export class AgentTimeoutError extends Error {}

/** A JSON answer is a few hundred bytes; more is not one of the agent's. */
const MAX_REPLY_BYTES = 64 * 1024;

export class AgentClient {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  /** `maxSockets` per agent: the dispatcher's in-flight cap, so no delivery waits for a socket. */
  constructor(maxSockets: number) {
    this.#http = new HttpAgent({ keepAlive: true, maxSockets });
    this.#https = new HttpsAgent({ keepAlive: true, maxSockets });
  }

  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AgentReply> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)(
        target,
        {
          method: 'POST',
          agent: secure ? this.#https : this.#http,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          timeout: timeoutMs,
        },
        (response) => readReply(response).then(resolve, reject),
      );
      // The socket timeout covers a silent agent; the overall one a slow trickle.
      const deadline = setTimeout(() => request.destroy(new AgentTimeoutError('agent did not answer in time')), timeoutMs);
      request.once('close', () => clearTimeout(deadline));
      request.once('timeout', () => request.destroy(new AgentTimeoutError('agent did not answer in time')));
      request.once('error', reject);
      request.end(body);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

function readReply(response: IncomingMessage): Promise<AgentReply> {
  const status = response.statusCode ?? 0;
  if (status !== 200) {
    response.resume();
    return Promise.resolve({ status, json: null });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) response.destroy(new Error('agent reply too large'));
      else chunks.push(chunk);
    });
    response.once('error', reject);
    response.once('end', () => {
      let json: unknown = null;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        // not JSON: the caller treats it as an unexpected body
      }
      resolve({ status, json });
    });
  });
}
