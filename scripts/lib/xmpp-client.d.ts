// Minimal typings for the parts of @xmpp/client (which ships none) that the tests and the benchmarks use.
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';
  export interface XmppClient extends EventEmitter {
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    reconnect: { stop(): void };
  }
  export type Authenticate = (credentials: { username: string; password: string }, mechanism: string) => Promise<void>;
  export function client(options: {
    service: string;
    domain: string;
    username?: string;
    password?: string;
    credentials?: (authenticate: Authenticate, mechanisms: string[]) => Promise<void>;
    resource?: string;
  }): XmppClient;
}
