// JSON as datasets publish it, read without losing anything: a top-level JSON array split into
// its records as the text streams in (sanitized MBPP is one array, hundreds of MB elsewhere), the
// exact text of a member's value (EvalPlus inputs hold integers beyond 2^53, which a JavaScript
// number would round), and Python's `json.dumps` extensions `NaN`, `Infinity` and `-Infinity`.
// Pure: no I/O.

/** Where a record of an array starts: 1-based line of its first character. */
export interface ArrayRecord {
  line: number;
  text: string;
}

/** What the splitter found wrong with the array itself (not with a record). */
export interface ArrayProblem {
  line: number;
  reason: string;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Splits a JSON array, fed in chunks, into the texts of its elements. Knows only strings, nesting
 * and commas (each element is parsed later, on its own, so one bad record does not hide the rest).
 * `push(chunk)` returns the elements completed by it; what is wrong with the array itself (not with
 * a record) collects in `problems`, with `end()` adding how the text ended if it is cut short.
 */
export class ArraySplitter {
  private line = 1;
  private started = false;
  private closed = false;
  /** Depth inside the current element (0: between elements). */
  private depth = 0;
  private inString = false;
  private escape = false;
  /** The current element's text so far, and where it began. */
  private parts: string[] = [];
  private elementLine = 0;
  private inElement = false;
  /** A comma was seen and no element after it yet. */
  private expectElement = false;
  private count = 0;
  readonly problems: ArrayProblem[] = [];

  /** Elements completed so far. */
  get records(): number {
    return this.count;
  }

  push(chunk: string): ArrayRecord[] {
    const out: ArrayRecord[] = [];
    let from = -1; // start of the current element's text inside this chunk
    const finish = (end: number) => {
      this.parts.push(chunk.slice(from < 0 ? 0 : from, end));
      out.push({ line: this.elementLine, text: this.parts.join('') });
      this.parts = [];
      this.inElement = false;
      this.count++;
      from = -1;
    };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 0x5c) this.escape = true;
        else if (c === 0x22) this.inString = false;
        if (c === 0x0a) this.line++;
        continue;
      }
      if (!this.started) {
        if (c === 0xfeff || isSpace(c)) {
          if (c === 0x0a) this.line++;
          continue;
        }
        if (c !== 0x5b) {
          this.problems.push({ line: this.line, reason: 'not a JSON array: expected [' });
          this.closed = true;
          return out;
        }
        this.started = true;
        continue;
      }
      if (this.closed) {
        if (c === 0x0a) this.line++;
        else if (!isSpace(c) && this.problems.length === 0) this.problems.push({ line: this.line, reason: 'text after the closing ] of the array' });
        continue;
      }
      if (!this.inElement) {
        if (isSpace(c)) {
          if (c === 0x0a) this.line++;
          continue;
        }
        if (c === 0x2c) {
          // a comma: before an element only when the previous one ended
          if (this.count === 0 || this.expectElement) this.problems.push({ line: this.line, reason: 'an empty element (two commas, or a comma first)' });
          this.expectElement = true;
          continue;
        }
        if (c === 0x5d) {
          if (this.expectElement) this.problems.push({ line: this.line, reason: 'a comma before the closing ]' });
          this.closed = true;
          continue;
        }
        if (this.count > 0 && !this.expectElement) this.problems.push({ line: this.line, reason: 'a missing comma between elements' });
        this.inElement = true;
        this.expectElement = false;
        this.elementLine = this.line;
        this.depth = 0;
        from = i;
      }
      // inside an element
      if (from < 0) from = 0;
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (this.depth === 0) {
          // the array's own ] right after a scalar
          finish(i);
          this.closed = true;
          continue;
        }
        this.depth--;
        if (this.depth === 0) finish(i + 1);
      } else if (c === 0x2c && this.depth === 0) {
        finish(i);
        this.expectElement = true;
      } else if (c === 0x0a) this.line++;
    }
    if (this.inElement) this.parts.push(chunk.slice(from < 0 ? 0 : from));
    return out;
  }

  /** The text ended: anything left open (no closing bracket, an element cut short) is a problem. */
  end(): void {
    if (!this.started) {
      if (this.problems.length === 0) this.problems.push({ line: this.line, reason: 'no JSON array: the text is empty' });
      return;
    }
    if (this.closed) return;
    if (this.inElement) {
      this.problems.push({ line: this.elementLine, reason: `the text ends inside record ${this.count + 1} (it starts at line ${this.elementLine}): the array is cut short` });
      return;
    }
    this.problems.push({ line: this.line, reason: 'the text ends before the closing ] of the array: it is cut short' });
  }
}

/** Python's `json.dumps` writes NaN, Infinity and -Infinity, which JSON.parse refuses: each one
 * outside strings becomes null here (for reading a record's fields; exact values are read from
 * the raw text with `rawMember`). Returns the text unchanged when there are none. */
export function withoutPythonConstants(text: string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    const word = text.startsWith('NaN', i) ? 'NaN' : text.startsWith('-Infinity', i) ? '-Infinity' : text.startsWith('Infinity', i) ? 'Infinity' : '';
    if (word) {
      out += `${text.slice(last, i)}null`;
      i += word.length - 1;
      last = i + 1;
    }
  }
  return out + text.slice(last);
}

/** The index just past the JSON value starting at `i` (whitespace before it skipped). */
function valueEnd(text: string, i: number): number {
  let depth = 0;
  let inString = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        if (depth === 0) return i + 1;
      }
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return i;
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === ',' && depth === 0) return i;
  }
  return i;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The exact text of the value of top-level member `key` of the JSON object `text`, or undefined
 * when the object has no such member. `text` must be a valid object (parsed before). */
export function rawMember(text: string, key: string): string | undefined {
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return undefined;
  i++;
  for (;;) {
    i = skipSpace(text, i);
    if (text[i] !== '"') return undefined;
    const keyEnd = valueEnd(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    if (text[i] !== ':') return undefined;
    const start = skipSpace(text, i + 1);
    const end = valueEnd(text, start);
    if (name === key) return text.slice(start, end).trimEnd();
    i = skipSpace(text, end);
    if (text[i] !== ',') return undefined;
    i++;
  }
}

/** The exact texts of the elements of the JSON array `text` (which must be valid). */
export function rawElements(text: string): string[] {
  let i = skipSpace(text, 0);
  if (text[i] !== '[') return [];
  i = skipSpace(text, i + 1);
  const out: string[] = [];
  if (text[i] === ']') return out;
  for (;;) {
    const start = skipSpace(text, i);
    const end = valueEnd(text, start);
    out.push(text.slice(start, end).trimEnd());
    i = skipSpace(text, end);
    if (text[i] !== ',') return out;
    i++;
  }
}
