/**
 * The configuration of a throwaway local Prosody: client connections only, on loopback, one VirtualHost,
 * internal_hashed accounts and the admin socket, everything (data, pidfile, log, socket) under one directory.
 * Used by `npm start`, the tests and the benchmark, so they all run the same Prosody set-up.
 */
import { join } from 'node:path';
import { DEFAULTS } from '../../common/config.js';

export interface LocalProsodyConfigOptions {
  /** Directory holding the config, data, pidfile, log and admin socket. */
  readonly dir: string;
  /** Client (c2s) port on 127.0.0.1. */
  readonly c2sPort: number;
  /** @default "meet.jitsi" (the XMPP domain of the Jitsi images) */
  readonly domain?: string;
  /** The images' auth domain (XMPP_AUTH_DOMAIN), home of the service accounts focus@ and jvb@. @default "auth.meet.jitsi" */
  readonly authDomain?: string;
  /** Needed when Prosody runs as root: it refuses otherwise. @default - true when this process is root */
  readonly runAsRoot?: boolean;
}

/** Lua string literal for a path or name: every byte a decimal escape, so no value can break the config. */
function luaString(value: string): string {
  return `"${[...Buffer.from(value, 'utf8')].map((byte) => `\\${byte}`).join('')}"`;
}

export function prosodyPaths(dir: string) {
  return {
    config: join(dir, 'prosody.cfg.lua'),
    data: join(dir, 'data'),
    pidfile: join(dir, 'prosody.pid'),
    log: join(dir, 'prosody.log'),
    socket: join(dir, 'data', 'prosody.sock'),
    certs: join(dir, 'certs'),
  };
}

export function renderProsodyConfig(options: LocalProsodyConfigOptions): string {
  const paths = prosodyPaths(options.dir);
  const runAsRoot = options.runAsRoot ?? process.getuid?.() === 0;
  const domain = options.domain ?? DEFAULTS.xmppDomain;
  return `-- Generated for a local, throwaway Prosody. Client connections on loopback only; no TLS, no s2s, no http.
data_path = ${luaString(paths.data)}
pidfile = ${luaString(paths.pidfile)}
log = { { levels = { min = "info" }, to = "file", filename = ${luaString(paths.log)} } }
run_as_root = ${runAsRoot ? 'true' : 'false'}
daemonize = false
admin_socket = ${luaString(paths.socket)}
certificates = ${luaString(paths.certs)}
modules_enabled = { "saslauth", "admin_shell", "ping" }
modules_disabled = { "s2s", "tls", "offline", "s2s_auth_certs", "s2s_bidi" }
interfaces = { "127.0.0.1" }
c2s_interfaces = { "127.0.0.1" }
c2s_ports = { ${options.c2sPort} }
c2s_direct_tls_ports = { }
s2s_ports = { }
s2s_direct_tls_ports = { }
http_ports = { }
https_ports = { }
component_ports = { }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
storage = "internal"
VirtualHost ${luaString(domain)}
VirtualHost ${luaString(options.authDomain ?? DEFAULTS.authDomain)}
`;
}
