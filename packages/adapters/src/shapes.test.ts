import { createServer } from 'node:http';
import express from 'express';
import { Hono } from 'hono';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { detectShape } from './shapes.js';

describe('detectShape', () => {
  it('recognises each framework by shape', () => {
    expect(detectShape(express())).toBe('express');
    expect(detectShape(new Koa())).toBe('koa');
    expect(detectShape(new Hono())).toBe('hono');
  });

  it('recognises the generic shapes', () => {
    expect(detectShape({ handle: () => {} })).toBe('app');
    expect(detectShape({ fetch: () => new Response('') })).toBe('fetch');
    expect(detectShape(Object.assign(() => {}, { fetch: () => new Response('') }))).toBe('fetch');
    expect(detectShape((_req: unknown, _res: unknown) => {})).toBe('listener');
  });

  it('prefers an explicit App over its fetch, and treats an Express Router as a listener', () => {
    expect(detectShape({ handle: () => {}, fetch: () => new Response('') })).toBe('app');
    expect(detectShape(express.Router())).toBe('listener');
  });

  it('finds nothing in values that are not apps', () => {
    for (const value of [undefined, null, 3, 'app', {}, { handle: 1 }, { fetch: 'x' }, Promise.resolve()]) {
      expect(detectShape(value)).toBeUndefined();
    }
  });
});

describe('detectShape for NestJS', () => {
  it('takes an object with init, close, listen, getHttpAdapter and getHttpServer for a Nest application', () => {
    const nest = { init() {}, close() {}, listen() {}, getHttpAdapter() {}, getHttpServer() {} };
    expect(detectShape(nest)).toBe('nest');
    // A standalone application context has no HTTP side.
    expect(detectShape({ init() {}, close() {}, get() {} })).toBeUndefined();
  });
});

describe('detectShape for a node:http Server', () => {
  it('takes a Server for one, and Express and Koa apps (which have listen and emit too) for themselves', () => {
    expect(detectShape(createServer())).toBe('server');
    expect(detectShape(express())).toBe('express');
    expect(detectShape(new Koa())).toBe('koa');
  });
});
