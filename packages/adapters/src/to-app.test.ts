import express from 'express';
import { Hono } from 'hono';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { clientInfo } from './client-info.js';
import { ACCEPTED_KINDS, NotAnAppError } from './errors.js';
import { fromExpress } from './express.js';
import { fromKoa } from './koa.js';
import { toApp } from './to-app.js';

const trustLoopback = (address: string | undefined) => address === undefined || address === '127.0.0.1';

describe('toApp', () => {
  it('returns an App as it is and wraps a listener', () => {
    const app = { handle: () => {} };
    expect(toApp(app)).toBe(app);
    const listener = () => {};
    expect(toApp(listener).handle).toBe(listener);
  });

  it('says what it found and what it accepts', () => {
    expect(() => toApp({ port: 3000 })).toThrow(/^expected one of: an App \(export \{ handle\(req, res\) \}.*; found an object with keys port$/);
    for (const kind of ACCEPTED_KINDS) expect(() => toApp({ port: 3000 })).toThrow(kind);
    expect(ACCEPTED_KINDS.join(' ')).toMatch(/listener.*Express.*Koa.*Fastify.*NestJS.*node:http Server.*Hono.*fetch\(request\).*Next\.js/);
    expect(() => toApp(Promise.resolve())).toThrow(/found a Promise \(export the app itself, or a factory/);
    expect(() => toApp(undefined)).toThrow(NotAnAppError);
    expect(() => toApp({ handle() {}, startup: 'soon' })).toThrow(/startup is a string/);
  });

  it('carries startup, shutdown and upgrade set on a framework object', () => {
    const app = express() as ReturnType<typeof express> & { startup?: () => void; upgrade?: () => void };
    let started = 0;
    app.startup = () => void started++;
    app.upgrade = () => {};
    const adapted = toApp(app);
    adapted.startup?.();
    expect(started).toBe(1);
    expect(adapted.upgrade).toBeTypeOf('function');
    expect(adapted.shutdown).toBeUndefined();
  });

  it('sets Express trust proxy and Koa proxy from the server trust decision', () => {
    const e = express();
    toApp(e, { trustProxy: trustLoopback });
    const fn = e.get('trust proxy fn') as (a: string | undefined, i: number) => boolean;
    expect([fn('127.0.0.1', 0), fn('10.9.9.9', 0), fn(undefined, 0)]).toEqual([true, false, true]);
    const k = new Koa();
    toApp(k, { trustProxy: trustLoopback });
    expect(k.proxy).toBe(true);
  });

  it('leaves framework settings alone without a trust decision', () => {
    const e = express();
    fromExpress(e);
    expect(e.get('trust proxy')).toBe(false);
    const k = new Koa();
    fromKoa(k);
    expect(k.proxy).toBe(false);
  });

  it('re-binds an App an adapter built without options to the server trust decision', () => {
    const e = express();
    const exported = fromExpress(e);
    const served = toApp(exported, { trustProxy: trustLoopback });
    expect(served).not.toBe(exported);
    expect(e.get('trust proxy')).toBeTypeOf('function');
  });

  it('rejects the wrong framework for an adapter', () => {
    expect(() => fromKoa(express() as never)).toThrow(/expected a Koa app \(new Koa\(\)\); found a function/);
    expect(() => fromExpress(new Hono() as never)).toThrow(/expected an Express app/);
  });
});

describe('clientInfo', () => {
  it('falls back to the URL for a Request the adapters did not bridge', () => {
    expect(clientInfo(new Request('https://example.com:8443/x'))).toEqual({ address: undefined, scheme: 'https', host: 'example.com:8443' });
  });
});
