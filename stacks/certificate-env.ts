/**
 * The certificate settings of a container that renews its host's certificate: the renewal timer runs
 * `docker exec <meet-agent|meet-edge> node dist/scripts/certs.mjs renew`, which reads them from its environment.
 */
import { z } from 'zod';
import { containerPaths } from './layout.js';

/** The certificate one host obtains and renews (see `npm run certs -- --help`). */
export interface CertificateSettings {
  /** Names to cover; the first is the common name. */
  readonly domains: readonly string[];
  /** "production", "staging" or an ACME directory URL. @default "production" (Let's Encrypt) */
  readonly acmeDirectory?: string;
  /** Contact address for the ACME account. @default none */
  readonly acmeEmail?: string;
  /**
   * Whether `certs` fetches each challenge URL itself before the CA validates it (MEET_ACME_SELF_CHECK), here and
   * not in the timer's command line, so changing it replaces this container rather than the host.
   * @default unset: `certs`' own default, on
   */
  readonly acmeSelfCheck?: boolean;
  /** Renew when the certificate expires within this many days. @default 30 */
  readonly renewDays?: number;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
/** What `certs` accepts as MEET_ACME_DIRECTORY; no quotes, spaces or `${`, which Terraform would interpolate. */
const ACME_DIRECTORY = /^(production|staging|https:\/\/[a-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~/-]*)?)$/;

/** The environment of `certs` inside a container: the names, and the directories as mounted there. */
export function certificateEnv(settings: CertificateSettings): string[] {
  if (settings.domains.length === 0) throw new Error('the certificate needs at least one domain');
  for (const domain of settings.domains)
    if (!DOMAIN.test(domain)) throw new Error(`certificate domain "${domain}" is not a lower-case DNS name`);
  if (
    settings.renewDays !== undefined &&
    !(Number.isInteger(settings.renewDays) && settings.renewDays >= 1 && settings.renewDays <= 365)
  ) {
    throw new Error(`renewDays ${settings.renewDays} must be a whole number from 1 to 365`);
  }
  if (settings.acmeDirectory !== undefined && !ACME_DIRECTORY.test(settings.acmeDirectory)) {
    throw new Error(
      `acmeDirectory "${settings.acmeDirectory}" is neither "production", "staging" nor an https URL of an ACME directory`,
    );
  }
  if (settings.acmeEmail !== undefined && !z.email().safeParse(settings.acmeEmail).success)
    throw new Error(`acmeEmail "${settings.acmeEmail}" is not an email address`);
  return [
    `MEET_CERT_DOMAINS=${settings.domains.join(',')}`,
    `MEET_CERTS_DIR=${containerPaths.certs}`,
    `MEET_ACME_CHALLENGE_DIR=${containerPaths.acmeChallenge}`,
    ...(settings.acmeDirectory ? [`MEET_ACME_DIRECTORY=${settings.acmeDirectory}`] : []),
    ...(settings.acmeEmail ? [`MEET_ACME_EMAIL=${settings.acmeEmail}`] : []),
    ...(settings.acmeSelfCheck !== undefined ? [`MEET_ACME_SELF_CHECK=${settings.acmeSelfCheck ? 1 : 0}`] : []),
    ...(settings.renewDays !== undefined ? [`MEET_CERT_RENEW_DAYS=${settings.renewDays}`] : []),
  ];
}
