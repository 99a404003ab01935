/** A short human description of a value, for error messages ("a string", "an object with keys a, b"). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') {
    return `a function${value.name ? ` named ${value.name}` : ''} taking ${value.length} argument(s)`;
  }
  if (value instanceof Promise) return 'a Promise';
  if (typeof value === 'object') {
    const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    const kind = ctor && ctor !== 'Object' ? `a ${ctor} object` : 'an object';
    const keys = Object.keys(value).slice(0, 6);
    return keys.length ? `${kind} with keys ${keys.join(', ')}` : `${kind} with no own keys`;
  }
  return `a ${typeof value} (${JSON.stringify(value)})`;
}
