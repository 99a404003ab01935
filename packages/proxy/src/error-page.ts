import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { isHttp2Response } from './http2/request.js';

const cache = new Map<number, Buffer>();

function page(status: number): Buffer {
  let body = cache.get(status);
  if (!body) {
    const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
    body = Buffer.from(`<!DOCTYPE html>\n<html><head><title>${title}</title></head>\n<body><h1>${title}</h1><hr><p>nodicorn proxy</p></body></html>\n`);
    cache.set(status, body);
  }
  return body;
}

/**
 * A whole raw response with the error page, for a connection the HTTP parser gave up on (no
 * response object exists): the same page nginx-style clients get for every other refusal.
 */
export function rawErrorResponse(status: number): string {
  const body = page(status);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString('latin1')}`;
}

/**
 * A small HTML error page from the proxy itself (nginx's style), never the upstream's internals.
 * `close` ends the client connection too, for errors after which its stream cannot be trusted
 * (an unread oversized body, a malformed request).
 */
export function sendError(res: ServerResponse, status: number, options: { close?: boolean; headers?: Record<string, string> } = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = page(status);
  const headers: Record<string, string | number> = { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, ...options.headers };
  // HTTP/2 has no Connection field (RFC 9113 §8.2.2): a stream ends on its own, the connection stays.
  if (options.close && !isHttp2Response(res)) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
