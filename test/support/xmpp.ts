/** Real XMPP logins against Prosody (shared with the benchmarks). */
import { requireInstalled } from './installed.js';

requireInstalled('Prosody', 'test/support/xmpp.ts');

export { failedLogins, xmppLogin } from '../../scripts/lib/xmpp-login.js';
