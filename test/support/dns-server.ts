/**
 * A tiny authoritative DNS server on loopback UDP for tests: answers A queries for the names it holds (with the
 * TTL given, like Docker's embedded DNS, which answers with 600 s), an empty NOERROR for other types of a known
 * name, NXDOMAIN otherwise. `set()` changes an answer at once, as a container replaced under the same name does.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface TestDnsServer {
  readonly port: number;
  set(name: string, ipv4: string): void;
  readonly queries: string[];
  close(): Promise<void>;
}

function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  while (message[at]! !== 0) {
    const length = message[at]!;
    labels.push(message.subarray(at + 1, at + 1 + length).toString('ascii'));
    at += length + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: at + 1 };
}

export async function startDnsServer(ttlSeconds: number): Promise<TestDnsServer> {
  const records = new Map<string, string>();
  const queries: string[] = [];
  const socket: Socket = createSocket('udp4');
  socket.on('message', (message, remote) => {
    const { name, end } = readName(message, 12);
    const type = message.readUInt16BE(end);
    queries.push(`${name}/${type === 1 ? 'A' : type === 28 ? 'AAAA' : type}`);
    const question = message.subarray(12, end + 4);
    const address = records.get(name);
    const answer =
      address !== undefined && type === 1
        ? Buffer.concat([
            Buffer.from([0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01]), // pointer to the question's name, type A, class IN
            (() => {
              const ttl = Buffer.alloc(4);
              ttl.writeUInt32BE(ttlSeconds);
              return ttl;
            })(),
            Buffer.from([0x00, 0x04, ...address.split('.').map(Number)]),
          ])
        : Buffer.alloc(0);
    const header = Buffer.alloc(12);
    message.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (message.readUInt16BE(2) & 0x0100) | (address === undefined ? 3 : 0), 2); // response, authoritative, RD echoed, NXDOMAIN?
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answer.length > 0 ? 1 : 0, 6);
    socket.send(Buffer.concat([header, question, answer]), remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    set: (name, ipv4) => records.set(name.toLowerCase(), ipv4),
    queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
