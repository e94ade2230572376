/**
 * What `npm run rotate` and `npm run backup` / `restore` ask of an agent (edge/shared/admin-protocol.ts): signed
 * POSTs, each with a fresh random webhook-id (accepted once). Failures throw one line naming the agent and why,
 * never a secret.
 */
import {
  ADMIN_PATHS,
  servicePasswordSealContext,
  type BackupDomain,
  type ServiceUsername,
} from '../../shared/admin-protocol.js';
import { seal } from '../../shared/sealing.js';
import type { AgentConfig } from '../config.js';
import { describeRefusal, signedPost } from './signed-post.js';

class AgentCallError extends Error {}

const TIMEOUT_MS = 60_000;

async function post(agent: AgentConfig, path: string, makeBody: (id: string) => object): Promise<unknown> {
  const answer = await signedPost(agent, path, makeBody, TIMEOUT_MS);
  if (!answer.reached) {
    const cause = (answer.error as { cause?: { code?: string } }).cause;
    throw new AgentCallError(
      `agent ${agent.name} unreachable at ${agent.url} (${cause?.code ?? (answer.error as Error).name})`,
    );
  }
  if (answer.status !== 200)
    throw new AgentCallError(`agent ${agent.name} answered ${describeRefusal(answer.status, answer.json)}`);
  return answer.json;
}

export async function setServicePassword(
  agent: AgentConfig,
  account: ServiceUsername,
  password: string,
): Promise<'changed' | 'absent'> {
  const json = (await post(agent, ADMIN_PATHS.servicePassword, (id) => ({
    account,
    sealedPassword: seal(agent.sealingPublicKey, password, servicePasswordSealContext(id, account)),
  }))) as { status?: unknown };
  if (json.status !== 'changed' && json.status !== 'absent')
    throw new AgentCallError(`agent ${agent.name} answered something other than the protocol`);
  return json.status;
}

export async function listRecords(agent: AgentConfig): Promise<Record<BackupDomain, string[]>> {
  const json = (await post(agent, ADMIN_PATHS.backupList, () => ({}))) as { domains?: Record<BackupDomain, unknown> };
  const ok = (value: unknown): value is string[] =>
    Array.isArray(value) && value.every((name) => typeof name === 'string');
  if (!json.domains || !ok(json.domains.xmpp) || !ok(json.domains.auth))
    throw new AgentCallError(`agent ${agent.name} sent no account list`);
  return { xmpp: json.domains.xmpp, auth: json.domains.auth };
}

export async function exportRecords(
  agent: AgentConfig,
  domain: BackupDomain,
  usernames: readonly string[],
): Promise<unknown[]> {
  const json = (await post(agent, ADMIN_PATHS.backupExport, () => ({ domain, usernames }))) as { accounts?: unknown };
  if (!Array.isArray(json.accounts)) throw new AgentCallError(`agent ${agent.name} sent no account records`);
  return json.accounts;
}

export async function importRecords(
  agent: AgentConfig,
  domain: BackupDomain,
  accounts: readonly unknown[],
): Promise<number> {
  const json = (await post(agent, ADMIN_PATHS.backupImport, () => ({ domain, accounts }))) as { imported?: unknown };
  if (typeof json.imported !== 'number') throw new AgentCallError(`agent ${agent.name} did not confirm the import`);
  return json.imported;
}

/** The agent host's certificate and ACME account files (base64 by name), those it has. */
export async function hostFiles(agent: AgentConfig): Promise<Record<string, string>> {
  const json = (await post(agent, ADMIN_PATHS.backupFiles, () => ({}))) as { files?: unknown };
  if (typeof json.files !== 'object' || json.files === null)
    throw new AgentCallError(`agent ${agent.name} sent no files`);
  return json.files as Record<string, string>;
}

export async function restoreHostFiles(agent: AgentConfig, files: Record<string, string>): Promise<number> {
  const json = (await post(agent, ADMIN_PATHS.backupRestoreFiles, () => ({ files }))) as { restored?: unknown };
  if (typeof json.restored !== 'number') throw new AgentCallError(`agent ${agent.name} did not confirm the files`);
  return json.restored;
}
