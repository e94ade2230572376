/**
 * The agent as its tests need it: a real Prosody (test/support/prosody.ts), the agent's inbox in a fresh temp dir,
 * the accounts backend on that Prosody, the account worker and the Hono app, wired as edge/agent/server.ts wires
 * them, and `dispose()` to take it all down again. Tests pass what they vary (keys, hold, a wrapped backend):
 *
 *   const rig = await startAgentRig({ sealingKeys: [sealing.privateKey], signingKeys: keys });
 *   afterAll(() => rig.dispose());
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountRecords } from '../../edge/agent/prosody/account-records.js';
import { createAgentApp, type AgentAppDeps } from '../../edge/agent/app.js';
import { Inbox } from '../../edge/agent/inbox.js';
import type { ProsodyAccounts, ProsodyAdmin } from '../../edge/agent/prosody/accounts.js';
import { AdminSocketAccounts } from '../../edge/agent/prosody/socket-accounts.js';
import { AccountWorker, type WorkerOptions } from '../../edge/agent/worker.js';
import { createLogger, type Logger } from '../../edge/shared/log.js';
import { startTestProsody, type TestProsody } from './prosody.js';

export type RigAccounts = ProsodyAccounts & ProsodyAdmin;

export interface AgentRigOptions {
  readonly sealingKeys: readonly string[];
  /** @default a fresh secret nobody signs with (for rigs that use only the worker) */
  readonly signingKeys?: readonly Buffer[];
  /** MEET_HOLD_MS of the app. @default 1000 */
  readonly holdMs?: number;
  /** Options of the Prosody (e.g. the 0.12 binaries). */
  readonly prosody?: Parameters<typeof startTestProsody>[0];
  /** The accounts backend on that Prosody. @default the admin socket's */
  readonly accounts?: (prosody: TestProsody) => RigAccounts;
  /** What the worker creates accounts through. @default the backend itself */
  readonly workerAccounts?: (accounts: RigAccounts) => ProsodyAccounts;
  /** The rest of the worker's options (retry timing...). */
  readonly worker?: Partial<Omit<WorkerOptions, 'inbox' | 'accounts' | 'sealingKeys' | 'log'>>;
  /** Start the worker's own loop (otherwise only the app drives it). @default false */
  readonly startWorker?: boolean;
  /** The service-account backend and account records, for the admin routes. */
  readonly serviceAdmin?: (prosody: TestProsody) => RigAccounts;
  readonly records?: (prosody: TestProsody) => AccountRecords;
  /** @default silent */
  readonly log?: Logger;
  /** Prefix of the temp dir's name. @default "agent-" */
  readonly name?: string;
}

export interface AgentRig {
  readonly prosody: TestProsody;
  readonly dir: string;
  readonly inbox: Inbox;
  readonly accounts: RigAccounts;
  readonly serviceAdmin?: RigAccounts;
  readonly worker: AccountWorker;
  readonly app: ReturnType<typeof createAgentApp>;
  /** Another front on the same inbox and worker (e.g. another hold). */
  appWith(overrides: Partial<AgentAppDeps>): ReturnType<typeof createAgentApp>;
  dispose(): Promise<void>;
}

export async function startAgentRig(options: AgentRigOptions): Promise<AgentRig> {
  const prosody = await startTestProsody(options.prosody);
  const dir = await mkdtemp(join(tmpdir(), options.name ?? 'agent-'));
  const inbox = new Inbox(join(dir, 'agent.sqlite'));
  const accounts = options.accounts?.(prosody) ?? new AdminSocketAccounts({ socketPath: prosody.socketPath });
  const serviceAdmin = options.serviceAdmin?.(prosody);
  const records = options.records?.(prosody);
  const log = options.log ?? createLogger({ level: 'silent' });
  const worker = new AccountWorker({
    inbox,
    accounts: options.workerAccounts?.(accounts) ?? accounts,
    sealingKeys: options.sealingKeys,
    log,
    ...options.worker,
  });
  if (options.startWorker) worker.start();
  const deps: AgentAppDeps = {
    inbox,
    worker,
    admin: accounts,
    ...(serviceAdmin ? { serviceAdmin } : {}),
    ...(records ? { records } : {}),
    sealingKeys: options.sealingKeys,
    signingKeys: options.signingKeys ?? [Buffer.alloc(32, 0xa5)],
    holdMs: options.holdMs ?? 1000,
    log,
  };
  return {
    prosody,
    dir,
    inbox,
    accounts,
    ...(serviceAdmin ? { serviceAdmin } : {}),
    worker,
    app: createAgentApp(deps),
    appWith: (overrides) => createAgentApp({ ...deps, ...overrides }),
    async dispose() {
      await worker.stop();
      await accounts.close();
      await serviceAdmin?.close();
      records?.close();
      inbox.close();
      await prosody.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
