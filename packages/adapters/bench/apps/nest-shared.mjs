// A NestJS hello world without a decorator build step (decorators applied with Reflect.decorate).
import 'reflect-metadata';
import { Controller, Get, Header, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

class HelloController {
  hello() {
    return 'Hello, World!';
  }
}
const proto = HelloController.prototype;
Object.defineProperty(proto, 'hello', Reflect.decorate([Get(), Header('content-type', 'text/plain')], proto, 'hello', Object.getOwnPropertyDescriptor(proto, 'hello')));
Reflect.decorate([Controller()], HelloController);
class AppModule {}
Reflect.decorate([Module({ controllers: [HelloController] })], AppModule);

export const createNest = (platform) => NestFactory.create(AppModule, platform, { logger: false });
