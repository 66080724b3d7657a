// What counts as a JSON object here: what JSON.parse makes of `{...}`. Arrays, class instances
// (Date, Map) and null are not, because they do not survive a JSON round trip as objects.

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A short, safe rendering of a producer's value for an error reason. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  let text: string;
  switch (typeof value) {
    case 'string':
      text = JSON.stringify(value);
      break;
    case 'number':
    case 'boolean':
    case 'bigint':
      text = String(value);
      break;
    case 'undefined':
      return 'undefined';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`; // a function or symbol: only a programmatic caller passes one
  }
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}
