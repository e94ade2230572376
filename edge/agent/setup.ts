/** Wires the agent's parts from its configuration; shared by the agent server and the cron worker script. */
import { mkdirSync } from 'node:fs';
import type { AgentConfig } from './config.js';
import { Inbox } from './inbox.js';
import type { ProsodyAccounts, ProsodyAdmin } from './prosody/accounts.js';
import { ProsodyctlAccounts } from './prosody/prosodyctl-accounts.js';
import { AdminSocketAccounts } from './prosody/socket-accounts.js';
import { AccountWorker, type WorkerLog } from './worker.js';

export function prosodyAccountsFor(config: AgentConfig): ProsodyAccounts & ProsodyAdmin {
  return config.prosody.mode === 'socket'
    ? new AdminSocketAccounts({ socketPath: config.prosody.socketPath, domain: config.xmppDomain })
    : new ProsodyctlAccounts({
        configPath: config.prosody.configPath,
        prosodyctl: config.prosody.prosodyctl,
        domain: config.xmppDomain,
      });
}

export interface AgentParts {
  readonly inbox: Inbox;
  readonly accounts: ProsodyAccounts & ProsodyAdmin;
  readonly worker: AccountWorker;
}

export function openAgentParts(config: AgentConfig, log: WorkerLog): AgentParts {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const inbox = new Inbox(config.inboxPath);
  const accounts = prosodyAccountsFor(config);
  const worker = new AccountWorker({ inbox, accounts, sealingKeys: config.sealingKeys, log });
  return { inbox, accounts, worker };
}
