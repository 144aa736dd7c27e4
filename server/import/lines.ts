// Streams a dataset file's text (gzip-compressed too, recognised by its content): as decoded
// chunks (for a JSON array) or as lines with 1-based numbers (JSON Lines), with byte progress.
//
// Lines are split on "\n" only (a trailing "\r" is dropped), so line numbers match `wc -l` /
// editors even if a record holds a stray CR; readline would also break on a lone "\r".
//
// A file that breaks while it is read (a truncated .gz, an I/O error) does not lose what came
// before: the complete lines (or chunks) read so far are delivered, then a ReadBrokenError says
// where the file broke, so the importer can store the complete records and report the rest.
import { createReadStream, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

export interface Line {
  /** 1-based line number in the decompressed text. */
  line: number;
  text: string;
  /** Bytes of the file on disk consumed so far (compressed bytes for .gz). */
  bytes: number;
}

export interface Chunk {
  text: string;
  bytes: number;
}

/** The file could not be read to its end; everything before `line` was delivered. */
export class ReadBrokenError extends Error {
  constructor(
    readonly file: string,
    /** The first line not delivered (1-based). */
    readonly line: number,
    readonly reason: string,
    readonly gzip: boolean,
  ) {
    super(gzip ? `${file}: cannot decompress past line ${line - 1}: ${reason}` : `${file}: read error at line ${line}: ${reason}`);
  }
}

/** True when the file starts with the gzip magic bytes (whatever its name). */
function isGzip(file: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = createReadStream(file, { start: 0, end: 1 });
    const parts: Buffer[] = [];
    s.on('data', (b) => parts.push(b as Buffer));
    s.on('error', reject);
    s.on('end', () => {
      const head = Buffer.concat(parts);
      resolve(head.length === 2 && head[0] === 0x1f && head[1] === 0x8b);
    });
  });
}

export function fileSize(file: string): number {
  return statSync(file).size;
}

/** The decoded text of the file in chunks. Throws ReadBrokenError (with `line` = the line the
 * break falls in, counted over the chunks delivered) when the file breaks. */
export async function* readChunks(file: string): AsyncGenerator<Chunk> {
  const gz = await isGzip(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  let bytes = 0;
  raw.on('data', (b) => {
    bytes += (b as Buffer).length;
  });
  const source = gz ? raw.pipe(createGunzip()) : raw;
  // pipe() does not forward errors: surface a read error through the gunzip stream.
  if (gz) raw.on('error', (e) => source.destroy(e));
  const decoder = new StringDecoder('utf8');
  let newlines = 0;
  let first = true;
  try {
    for await (const chunk of source) {
      let text = decoder.write(chunk as Buffer);
      if (first && text.length > 0) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) newlines++;
      yield { text, bytes };
    }
  } catch (e) {
    throw new ReadBrokenError(file, newlines + 1, (e as Error).message, gz);
  }
  const rest = decoder.end();
  if (rest.length > 0) yield { text: rest, bytes };
}

/** The file's lines. On a break, the complete lines before it are delivered; a last line without
 * its newline is delivered too when it is itself a complete JSON value (the break fell right
 * after it), then ReadBrokenError. */
export async function* readLines(file: string): AsyncGenerator<Line> {
  let carry = '';
  let n = 0;
  let bytes = 0;
  const emit = (text: string): Line => {
    n++;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { line: n, text, bytes };
  };
  try {
    for await (const chunk of readChunks(file)) {
      bytes = chunk.bytes;
      const text = carry + chunk.text;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        yield emit(text.slice(start, nl));
        start = nl + 1;
      }
      carry = text.slice(start);
    }
  } catch (e) {
    if (!(e instanceof ReadBrokenError)) throw e;
    if (carry.trim() !== '' && completeJson(carry)) yield emit(carry);
    throw new ReadBrokenError(e.file, n + 1, e.reason, e.gzip);
  }
  if (carry.length > 0) yield emit(carry);
}

function completeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
