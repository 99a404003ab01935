import { describe, expect, it } from 'vitest';
import { nearest } from './nearest.js';
import { atLeast, booleanType, choiceType, intType, listType, optionalStringType, positive, range, recordType, secondsType, sizeType, stringType, umaskType } from './value-types.js';

describe('value types', () => {
  it('parse flag text, saying what was expected', () => {
    expect(intType.parse('-3')).toBe(-3);
    expect(() => intType.parse('two')).toThrow('expected a whole number, got "two"');
    expect(() => intType.parse('1.5')).toThrow('expected a whole number');
    expect(secondsType.parse('0.25')).toBe(0.25);
    expect(() => secondsType.parse(' ')).toThrow('expected a number of seconds, got " "');
    expect([sizeType.parse('1m'), sizeType.parse('512K'), sizeType.parse('1024'), sizeType.parse('2g')]).toEqual([1024 ** 2, 512 * 1024, 1024, 2 * 1024 ** 3]);
    expect(() => sizeType.parse('1.5m')).toThrow('expected a size such as 1m, 512k or 1024, got "1.5m"');
    expect(['on', 'TRUE', 'yes', '1'].map((s) => booleanType.parse(s))).toEqual([true, true, true, true]);
    expect(['off', 'False', 'no', '0'].map((s) => booleanType.parse(s))).toEqual([false, false, false, false]);
    expect(() => booleanType.parse('maybe')).toThrow('expected on or off (true or false), got "maybe"');
    expect(listType.parse('a')).toEqual(['a']);
    expect(choiceType(['info', 'debug']).parse('INFO')).toBe('info');
    expect(() => choiceType(['info', 'debug']).parse('loud')).toThrow('expected one of info, debug, got "loud"');
    expect(recordType.parse('{"X-A":"b"}')).toEqual({ 'X-A': 'b' });
    expect(() => recordType.parse('{')).toThrow('expected a JSON object');
    expect(() => recordType.parse('{"a":1}')).toThrow('expected an object of header names to values');
  });

  it('read umasks in octal as Gunicorn does', () => {
    expect([umaskType.parse('0o077'), umaskType.parse('0077'), umaskType.parse('18'), umaskType.parse('0')]).toEqual([0o077, 0o077, 18, 0]);
    expect(() => umaskType.parse('0o999')).toThrow(/octal/);
    expect(() => umaskType.parse('1000')).toThrow(/octal/);
  });

  it('take config values typed, or as text parsed like the flag', () => {
    expect(intType.from(4)).toBe(4);
    expect(intType.from('4')).toBe(4);
    expect(() => intType.from(1.5)).toThrow('expected a whole number, got 1.5');
    expect(() => intType.from(true)).toThrow('expected a whole number, got true');
    expect(secondsType.from('2.5')).toBe(2.5);
    expect(sizeType.from('1k')).toBe(1024);
    expect(sizeType.from(10)).toBe(10);
    expect(() => sizeType.from(-1)).toThrow('expected a size');
    expect(booleanType.from('off')).toBe(false);
    expect(() => booleanType.from(1)).toThrow('expected on or off (true or false), got 1');
    expect(listType.from('a')).toEqual(['a']);
    expect(listType.from(['a', 'b'])).toEqual(['a', 'b']);
    expect(() => listType.from([1])).toThrow('expected a string or a list of strings, got [1]');
    expect(stringType.from('x')).toBe('x');
    expect(() => stringType.from(1)).toThrow('expected a string, got 1');
    expect(optionalStringType.from(null)).toBeNull();
    expect(choiceType(['info', 'debug']).from('DEBUG')).toBe('debug');
    expect(recordType.from('{"a":"b"}')).toEqual({ a: 'b' });
    expect(umaskType.from(0o22)).toBe(0o22);
    expect(() => umaskType.from(0o1000)).toThrow('expected a mask from 0 to 0o777');
  });

  it('check ranges in words', () => {
    expect(atLeast(1)(0)).toBe('must be at least 1, got 0');
    expect(atLeast(1)(1)).toBeUndefined();
    expect(positive(0)).toBe('must be more than 0, got 0');
    expect(range(1, 9)(10)).toBe('must be from 1 to 9, got 10');
    expect(range(1, 9)(9)).toBeUndefined();
  });
});

describe('nearest', () => {
  it('suggests near names only', () => {
    expect(nearest('--bnd', ['--bind', '--backlog'])).toBe('--bind');
    expect(nearest('--zzzzzz', ['--bind'])).toBeUndefined();
    expect(nearest('x', [])).toBeUndefined();
  });
});
