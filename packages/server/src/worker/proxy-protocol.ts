import type { Socket } from 'node:net';

/** The client a load balancer's PROXY protocol header names (HAProxy's spec, v1 text and v2 binary). */
export interface ProxiedPeer {
  /** undefined for `PROXY UNKNOWN` / v2 LOCAL: the connection is the balancer's own (health checks). */
  readonly address?: string;
  readonly port?: number;
}

export type ProxyHeader = { readonly peer: ProxiedPeer; readonly length: number } | { readonly error: string } | 'incomplete';

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_MAX = 107;

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

function parseV1(data: Buffer): ProxyHeader {
  const end = data.indexOf('\r\n');
  if (end === -1) return data.length >= V1_MAX ? { error: 'a PROXY v1 line longer than 107 bytes' } : 'incomplete';
  const line = data.subarray(0, end).toString('latin1');
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { peer: {}, length: end + 2 };
  const [, family, source, , sourcePort] = parts;
  const ip = family === 'TCP4' ? /^\d{1,3}(\.\d{1,3}){3}$/ : family === 'TCP6' ? /^[0-9a-fA-F:.]+$/ : null;
  if (parts.length !== 6 || !ip || !ip.test(source!) || !ip.test(parts[3]!) || !/^\d{1,5}$/.test(sourcePort!) || !/^\d{1,5}$/.test(parts[5]!)) {
    return { error: `a malformed PROXY v1 line "${line.slice(0, 60)}"` };
  }
  return { peer: { address: source, port: Number(sourcePort) }, length: end + 2 };
}

function parseV2(data: Buffer): ProxyHeader {
  if (data.length < 16) return 'incomplete';
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) return { error: `a PROXY v2 header of version ${versionCommand >> 4}` };
  const length = 16 + data.readUInt16BE(14);
  if (data.length < length) return 'incomplete';
  const command = versionCommand & 0x0f;
  if (command === 0x0) return { peer: {}, length }; // LOCAL
  if (command !== 0x1) return { error: `a PROXY v2 header with command ${command}` };
  const family = data[13]! >> 4;
  const body = data.subarray(16, length);
  if (family === 0x1 && body.length >= 12) return { peer: { address: [...body.subarray(0, 4)].join('.'), port: body.readUInt16BE(8) }, length };
  if (family === 0x2 && body.length >= 36) return { peer: { address: ipv6(body.subarray(0, 16)), port: body.readUInt16BE(32) }, length };
  if (family === 0x0) return { peer: {}, length }; // UNSPEC
  return { error: `a PROXY v2 header for address family ${family} with ${body.length} address bytes` };
}

/** Parses the PROXY header at the start of `data` (v1 or v2), or says it needs more bytes. */
export function parseProxyHeader(data: Buffer): ProxyHeader {
  if (data.length >= 1 && data[0] === 0x0d) {
    const n = Math.min(data.length, V2_SIGNATURE.length);
    if (!data.subarray(0, n).equals(V2_SIGNATURE.subarray(0, n))) return { error: 'no PROXY header' };
    return n < V2_SIGNATURE.length ? 'incomplete' : parseV2(data);
  }
  const n = Math.min(data.length, 6);
  if (data.subarray(0, n).toString('latin1') !== 'PROXY '.slice(0, n)) return { error: 'no PROXY header' };
  return n < 6 ? 'incomplete' : parseV1(data);
}

/**
 * Reads the PROXY header off a new connection before HTTP sees it, then hands the connection on
 * with the client's address in place of the balancer's (`socket.remoteAddress`, which the access
 * log and proxy trust read). A missing or malformed header closes the connection: a request must
 * never be handled under the balancer's address as if it were the client's.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number, onPeer: (socket: Socket) => void, onError: (why: string) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  const fail = (why: string) => {
    cleanup();
    onError(why);
    socket.destroy();
  };
  const timer = setTimeout(() => fail(`no PROXY header within ${timeoutMs} ms`), timeoutMs);
  const onData = (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    const header = parseProxyHeader(buffered);
    if (header === 'incomplete') return;
    if ('error' in header) return fail(header.error);
    cleanup();
    socket.pause();
    const rest = buffered.subarray(header.length);
    if (rest.length) socket.unshift(rest);
    if (header.peer.address !== undefined) {
      Object.defineProperty(socket, 'remoteAddress', { value: header.peer.address, configurable: true });
      Object.defineProperty(socket, 'remotePort', { value: header.peer.port, configurable: true });
      Object.defineProperty(socket, 'remoteFamily', { value: header.peer.address.includes(':') ? 'IPv6' : 'IPv4', configurable: true });
    }
    onPeer(socket);
    socket.resume();
  };
  const onEnd = () => fail('the connection closed before its PROXY header');
  const cleanup = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onEnd);
  };
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('error', onEnd);
}
