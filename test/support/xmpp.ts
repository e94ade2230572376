/** Real XMPP logins against Prosody (shared with the benchmarks). */
export { failedLogins, xmppLogin } from '../../scripts/lib/xmpp-login.js';
