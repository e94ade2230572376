/**
 * One connection to Prosody's admin socket (mod_admin_socket + mod_admin_shell), the protocol `prosodyctl shell`
 * speaks: an XML stream of <repl-input> commands, answered by <repl-output>* then one <repl-result>. When a
 * command needs a password, Prosody asks with <repl-request-input type='password' id='…'/>, and the password
 * travels only as the answer to that request, never inside a command.
 *
 * Replies carry no command id, so a connection runs one command at a time (a queue); use several connections
 * for concurrency.
 */
import { connect, type Socket } from 'node:net';
import { Parser, escapeXML, escapeXMLText, type Element } from '@xmpp/xml';
import { ProsodyUnavailableError } from './accounts.js';

const STREAM_OPEN =
  "<?xml version='1.0'?><stream:stream xmlns='xmpp:prosody.im/admin' " +
  "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

export interface ReplResult {
  readonly ok: boolean;
  /** Text of the <repl-result>, e.g. "OK: Created …", "Error: User exists", "Result: true". */
  readonly text: string;
  /** Text of any <repl-output> lines before it. */
  readonly output: readonly string[];
}

interface Pending {
  readonly line: string;
  readonly password: string | undefined;
  readonly output: string[];
  readonly resolve: (result: ReplResult) => void;
  readonly reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

export interface AdminSocketOptions {
  readonly socketPath: string;
  /** How long one command may take before the connection is dropped. @default 10 s */
  readonly commandTimeoutMs?: number;
}

export class AdminSocketConnection {
  readonly #options: AdminSocketOptions;
  #socket: Socket | undefined;
  #ready: Promise<Socket> | undefined;
  #current: Pending | undefined;
  readonly #queue: Pending[] = [];

  constructor(options: AdminSocketOptions) {
    this.#options = options;
  }

  /** Commands waiting or running on this connection. */
  get load(): number {
    return this.#queue.length + (this.#current ? 1 : 0);
  }

  /**
   * Runs one shell line. `password` answers Prosody's password request, if it makes one
   * (without it such a request is cancelled).
   */
  run(line: string, password?: string): Promise<ReplResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ line, password, output: [], resolve, reject });
      this.#next();
    });
  }

  close(): void {
    this.#drop(new ProsodyUnavailableError('admin connection closed'));
  }

  #connect(): Promise<Socket> {
    this.#ready ??= new Promise<Socket>((resolve, reject) => {
      const socket = connect({ path: this.#options.socketPath });
      const parser = new Parser();
      socket.setEncoding('utf8');
      socket.once('connect', () => {
        socket.write(STREAM_OPEN);
        this.#socket = socket;
        resolve(socket);
      });
      socket.on('data', (data: string) => parser.write(data));
      parser.on('element', (element: Element) => this.#onElement(element));
      parser.on('error', (error: Error) =>
        this.#drop(new ProsodyUnavailableError(`bad reply from Prosody: ${error.message}`)),
      );
      const fail = (why: string) => {
        const error = new ProsodyUnavailableError(`Prosody admin socket ${this.#options.socketPath}: ${why}`);
        reject(error);
        if (this.#socket === socket) this.#drop(error);
        else this.#ready = undefined;
      };
      socket.once('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
      socket.once('close', () => fail('connection closed'));
    });
    return this.#ready;
  }

  async #next(): Promise<void> {
    if (this.#current || this.#queue.length === 0) return;
    const pending = this.#queue.shift()!;
    this.#current = pending;
    try {
      const socket = await this.#connect();
      pending.timer = setTimeout(
        () => this.#drop(new ProsodyUnavailableError('Prosody did not answer in time')),
        this.#options.commandTimeoutMs ?? 10_000,
      );
      socket.write(`<repl-input repl='0'>${escapeXMLText(pending.line)}</repl-input>`);
    } catch (error) {
      this.#finish(pending, () => pending.reject(error as Error));
    }
  }

  #onElement(element: Element): void {
    const pending = this.#current;
    if (!pending) return;
    switch (element.name) {
      case 'repl-output':
        pending.output.push(element.getText());
        return;
      case 'repl-request-input': {
        const id = escapeXML(element.attrs.id ?? '');
        const answer =
          element.attrs.type === 'password' && pending.password !== undefined
            ? `<repl-requested-input type='password' id='${id}'>${escapeXMLText(pending.password)}</repl-requested-input>`
            : `<repl-requested-input type='password' id='${id}' status='cancel'/>`;
        this.#socket?.write(answer);
        return;
      }
      case 'repl-result':
        this.#finish(pending, () =>
          pending.resolve({ ok: element.attrs.type !== 'error', text: element.getText(), output: pending.output }),
        );
        return;
      default:
        return;
    }
  }

  #finish(pending: Pending, settle: () => void): void {
    clearTimeout(pending.timer);
    if (this.#current === pending) this.#current = undefined;
    settle();
    void this.#next();
  }

  /** Fails the running and queued commands and forgets the socket; the next command reconnects. */
  #drop(error: Error): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#ready = undefined;
    socket?.destroy();
    const failed = [...(this.#current ? [this.#current] : []), ...this.#queue.splice(0)];
    this.#current = undefined;
    for (const pending of failed) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}
