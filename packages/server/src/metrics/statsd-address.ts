import { isIP } from 'node:net';

/** Where --statsd-host sends: a UDP host and port. */
export interface StatsdAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Reads --statsd-host as Gunicorn writes it: `HOST:PORT` or `[IPV6]:PORT`. Gunicorn also takes
 * `unix:PATH` for a Unix datagram socket; Node's dgram has no Unix datagram sockets, so that is
 * refused with why rather than taken and silently dropped.
 */
export function parseStatsdHost(value: string): StatsdAddress | string {
  if (value.startsWith('unix:')) return `"${value}": Node has no Unix datagram sockets, so nodicorn sends statsd over UDP only; give HOST:PORT (a DogStatsD agent listens on UDP 8125 too)`;
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || !host) return `"${value}" is not HOST:PORT or [IPV6]:PORT`;
  if (match[1] !== undefined && isIP(host) !== 6) return `"${host}" in brackets is not an IPv6 address`;
  if (!(port >= 1 && port <= 65535)) return `port ${match[3]} is not 1 to 65535`;
  return { host, port };
}

export function statsdHostProblem(value: string): string | undefined {
  const parsed = parseStatsdHost(value);
  return typeof parsed === 'string' ? parsed : undefined;
}

/**
 * --dogstatsd-tags is appended to every line as `|#TAGS` (Datadog's datagram format): a tag may not
 * hold what would end the line or the field, or an empty entry.
 */
export function statsdTagsProblem(value: string): string | undefined {
  if (value === '') return undefined;
  const bad = value.split(',').find((tag) => !/^[^\s|,#@]+$/.test(tag));
  return bad === undefined ? undefined : `tag "${bad}" is empty or holds a space or one of | # @, which would break the statsd line; write tags as key:value,key2`;
}
