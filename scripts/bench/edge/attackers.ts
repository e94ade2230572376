/** The edge bench's attackers: a bad-ticket flooder (a worker thread) and holders of unfinished connections. */
import { spawn } from 'node:child_process';
import { unlimited } from './services.js';

export interface FloodResult {
  sent: number;
  forbidden: number;
  limited: number;
  other: number;
  retryAfterSeen: boolean;
  seconds: number;
}

/** Sends `rps` bad tickets per second from one client address (203.0.113.66) for `seconds`, open loop. */
export const FLOODER = `
const { parentPort, workerData } = require('node:worker_threads');
const { randomBytes } = require('node:crypto');
const { url, rps, seconds } = workerData;
const result = { sent: 0, forbidden: 0, limited: 0, other: 0, retryAfterSeen: false, seconds: 0 };
const inFlight = new Set();
const start = performance.now();
const tick = setInterval(() => {
  const elapsed = performance.now() - start;
  if (elapsed >= seconds * 1000) {
    clearInterval(tick);
    Promise.allSettled([...inFlight]).then(() => {
      result.seconds = seconds;
      parentPort.postMessage(result);
    });
    return;
  }
  const due = Math.floor((elapsed / 1000) * rps);
  while (result.sent < due) {
    result.sent++;
    const bad = randomBytes(12).toString('base64url') + '.' + randomBytes(32).toString('base64url');
    const request = fetch(url + '/create', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': '203.0.113.66' },
      body: JSON.stringify({ user: 'flood', password: 'flood password 123', token: bad }),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.status === 403) result.forbidden++;
        else if (res.status === 429) { result.limited++; result.retryAfterSeen ||= res.headers.has('retry-after'); }
        else result.other++;
      })
      .catch(() => { result.other++; })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
}, 5);
`;

/**
 * Holds `count` connections open against the edge for `seconds`, from one source address (127.0.0.2) or spread over
 * `spread` addresses (127.0.10.1 ...): 'body' sends a POST's headers and a few bytes of its 12 kB body, 'headers'
 * half a request's headers; each reconnects a second after the edge closes it. Prints what it saw as JSON.
 */
const HOLDER = `
const net = require('node:net');
const [port, count, mode, spread, seconds] = process.argv.slice(1).map((arg, i) => (i === 2 ? arg : Number(arg)));
const result = { connected: 0, closedByServer: 0, answered: 0 };
const end = Date.now() + seconds * 1000;
const payload = mode === 'body'
  ? 'POST /create HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 12000\\r\\n\\r\\n{"us'
  : 'POST /create HTTP/1.1\\r\\nHost: x\\r\\nX-Slow: ';
function hold(i) {
  if (Date.now() >= end) return;
  const n = i % spread;
  const localAddress = spread === 1 ? '127.0.0.2' : '127.0.' + (10 + Math.floor(n / 200)) + '.' + (1 + (n % 200));
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  let answered = false;
  socket.on('connect', () => { result.connected++; socket.write(payload); });
  socket.on('data', () => { if (!answered) { answered = true; result.answered++; } });
  socket.on('error', () => undefined);
  socket.on('close', () => { if (Date.now() < end) { result.closedByServer++; setTimeout(() => hold(i), 1000); } });
}
for (let i = 0; i < count; i++) setTimeout(() => hold(i), Math.floor(i / 500) * 100);
setTimeout(() => { console.log(JSON.stringify(result)); process.exit(0); }, seconds * 1000);
`;

export interface HoldResult {
  connected: number;
  closedByServer: number;
  answered: number;
}

export function startHolder(
  port: number,
  count: number,
  mode: 'body' | 'headers',
  spread: number,
  seconds: number,
): Promise<HoldResult> {
  const child = spawn(
    '/bin/sh',
    unlimited(['-e', HOLDER, String(port), String(count), mode, String(spread), String(seconds)]),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  return new Promise((done, fail) =>
    child.once('exit', (code) =>
      code === 0 ? done(JSON.parse(out) as HoldResult) : fail(new Error(`attacker exited ${code}`)),
    ),
  );
}
