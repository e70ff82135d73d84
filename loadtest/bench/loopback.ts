import { isIP } from 'node:net';

/**
 * Parses a benchmark target and refuses anything off this machine: load is only ever sent to
 * 127.0.0.0/8, localhost or [::1].
 */
export function loopbackUrl(value: string): URL {
  const url = new URL(value);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const isLoopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (!isLoopback) {
    throw new Error(
      `refusing to send load to ${url.origin}: benchmarks target only 127.0.0.0/8, localhost or [::1]`,
    );
  }
  return url;
}
