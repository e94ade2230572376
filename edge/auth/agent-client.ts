/**
 * POSTs one signed job to an agent over node:http(s) with keep-alive, and returns its status and parsed JSON.
 * One delivery (one or more jobs) per request. Not fetch, and on a worker thread of its own, so that jobs leave
 * while the main thread is busy with a burst of redemptions (docs/decisions/dispatcher-transport.md).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface AgentReply {
  readonly status: number;
  /** The parsed body, or null when it is not JSON (or not read, for a status other than 200). */
  readonly json: unknown;
}

/** The agent did not answer within the timeout. */
export class AgentTimeoutError extends Error {}

/** A JSON answer is a few hundred bytes; more is not one of the agent's. */
const MAX_REPLY_BYTES = 64 * 1024;

/** Sends on the calling thread (what the worker thread runs; also usable directly). */
class DirectAgentClient {
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
      const deadline = setTimeout(
        () => request.destroy(new AgentTimeoutError('agent did not answer in time')),
        timeoutMs,
      );
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

const WORKER_ROLE = 'meet-auth-agent-client';

interface PostMessage {
  readonly id: number;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs: number;
}

type ReplyMessage =
  | { readonly id: number; readonly reply: AgentReply }
  | {
      readonly id: number;
      readonly error: { readonly timeout: boolean; readonly message: string; readonly code?: string };
    };

/** The worker thread's side: one DirectAgentClient, a message in per job, a message out per reply. */
if (!isMainThread && parentPort && (workerData as { role?: string } | null)?.role === WORKER_ROLE) {
  const port = parentPort;
  const client = new DirectAgentClient((workerData as { maxSockets: number }).maxSockets);
  port.on('message', (message: PostMessage | 'close') => {
    if (message === 'close') {
      client.close();
      port.close();
      return;
    }
    client.post(message.url, message.headers, message.body, message.timeoutMs).then(
      (reply) => port.postMessage({ id: message.id, reply } satisfies ReplyMessage),
      (error: unknown) => {
        const { message: text, code } = error as NodeJS.ErrnoException;
        port.postMessage({
          id: message.id,
          error: {
            timeout: error instanceof AgentTimeoutError,
            message: String(text ?? 'request failed'),
            ...(code ? { code } : {}),
          },
        } satisfies ReplyMessage);
      },
    );
  });
}

/**
 * The worker loads this very module: built JavaScript as it is; from source (tsx, in development, tests and the
 * bench) through tsx's loader, registered inside the worker (Node 20 workers do not take `--import` hooks).
 */
function startWorker(data: object): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(import.meta.url), { workerData: data });
  const load = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  return new Worker(load, { eval: true, workerData: data });
}

/** The dispatcher's client: the same posts as DirectAgentClient, made on a worker thread (see the file comment). */
export class AgentClient {
  readonly #maxSockets: number;
  readonly #pending = new Map<number, { resolve: (reply: AgentReply) => void; reject: (error: Error) => void }>();
  #worker: Worker | undefined;
  #nextId = 0;
  #closed = false;

  /** `maxSockets` per agent: the dispatcher's in-flight cap, so no delivery waits for a socket. */
  constructor(maxSockets: number) {
    this.#maxSockets = maxSockets;
  }

  post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AgentReply> {
    if (this.#closed) return Promise.reject(new Error('the agent client is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#thread().postMessage({ id, url, headers, body, timeoutMs } satisfies PostMessage);
    });
  }

  close(): void {
    this.#closed = true;
    this.#worker?.postMessage('close');
    this.#worker = undefined;
    this.#failAll(new Error('the agent client is closed'));
  }

  /** The worker, started on first use and again after it died (its requests then fail and are retried). */
  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startWorker({ role: WORKER_ROLE, maxSockets: this.#maxSockets });
    // Idle, it must not keep the process alive; a pending post keeps its caller's own timers anyway.
    worker.unref();
    worker.on('message', (message: ReplyMessage) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if ('reply' in message) pending.resolve(message.reply);
      else if (message.error.timeout) pending.reject(new AgentTimeoutError(message.error.message));
      else
        pending.reject(
          Object.assign(new Error(message.error.message), message.error.code ? { code: message.error.code } : {}),
        );
    });
    const died = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#failAll(error);
    };
    worker.once('error', died);
    worker.once('exit', (code) => died(new Error(`the agent client thread exited (${code})`)));
    this.#worker = worker;
    return worker;
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
