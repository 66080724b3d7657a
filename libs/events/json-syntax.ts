// Finds where a JSON text stops being JSON. V8's JSON.parse messages name a position for some
// errors only, and differ between Node versions; producers need "line 3, column 14" every time.
// Run only after JSON.parse has failed, so it favours clarity over speed. Iterative (an explicit
// stack of open containers) so that deeply nested input cannot overflow the call stack.

export interface JsonSyntaxError {
  /** 0-based index (UTF-16 code units) of the offending character, or the text's length at its end. */
  index: number;
  message: string;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

class Scanner {
  i = 0;
  constructor(readonly text: string) {}

  skipWhitespace(): void {
    while (this.i < this.text.length && WHITESPACE.has(this.text.charAt(this.i))) this.i++;
  }

  fail(message: string): JsonSyntaxError {
    const atEnd = this.i >= this.text.length;
    return { index: this.i, message: atEnd ? `unexpected end of input: ${message}` : message };
  }

  /** A string starting at `i` (which holds `"`); moves past it or returns the error. */
  string(): JsonSyntaxError | undefined {
    this.i++;
    while (this.i < this.text.length) {
      const ch = this.text.charAt(this.i);
      if (ch === '"') {
        this.i++;
        return undefined;
      }
      if (ch === '\\') {
        this.i++;
        const escape = this.text.charAt(this.i);
        if (escape === 'u') {
          HEX4.lastIndex = this.i + 1;
          if (!HEX4.test(this.text)) return this.fail('expected 4 hex digits after \\u');
          this.i += 5;
          continue;
        }
        if (!ESCAPES.has(escape)) return this.fail('invalid escape in string');
        this.i++;
        continue;
      }
      if (ch < ' ') return this.fail('control character in string (escape it, e.g. \\n)');
      this.i++;
    }
    return this.fail('unterminated string');
  }

  /** A scalar value at `i`; moves past it or returns the error. */
  scalar(): JsonSyntaxError | undefined {
    const ch = this.text.charAt(this.i);
    if (ch === '"') return this.string();
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.i)) {
        this.i += literal.length;
        return undefined;
      }
    }
    NUMBER.lastIndex = this.i;
    if ((ch === '-' || (ch >= '0' && ch <= '9')) && NUMBER.test(this.text)) {
      this.i = NUMBER.lastIndex;
      return undefined;
    }
    return this.fail('expected a value');
  }

  /** A property name and its colon, in an object. */
  key(): JsonSyntaxError | undefined {
    if (this.text.charAt(this.i) !== '"') return this.fail('expected a property name in double quotes');
    const error = this.string();
    if (error) return error;
    this.skipWhitespace();
    if (this.text.charAt(this.i) !== ':') return this.fail("expected ':' after a property name");
    this.i++;
    return undefined;
  }
}

/** The first syntax error of `text`, or undefined when `text` is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const s = new Scanner(text);
  const open: string[] = []; // '}' or ']' for each container still open
  for (;;) {
    // A value is expected here.
    s.skipWhitespace();
    const ch = text.charAt(s.i);
    if (ch === '{' || ch === '[') {
      s.i++;
      s.skipWhitespace();
      const close = ch === '{' ? '}' : ']';
      if (text.charAt(s.i) === close) s.i++;
      else {
        open.push(close);
        if (close === '}') {
          const error = s.key();
          if (error) return error;
        }
        continue;
      }
    } else {
      const error = s.scalar();
      if (error) return error;
    }
    // After a value: a comma, the end of the container, or the end of the text.
    for (;;) {
      s.skipWhitespace();
      const close = open.at(-1);
      if (close === undefined) {
        return s.i < text.length ? s.fail('unexpected character after the JSON value') : undefined;
      }
      const next = text.charAt(s.i);
      if (next === close) {
        open.pop();
        s.i++;
        continue;
      }
      if (next !== ',') return s.fail(`expected ',' or '${close}'`);
      s.i++;
      if (close === '}') {
        s.skipWhitespace();
        const error = s.key();
        if (error) return error;
      }
      break;
    }
  }
}
