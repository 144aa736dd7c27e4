// Streams the lines of a .jsonl or .jsonl.gz file with 1-based line numbers and byte progress.
//
// Split on "\n" only (a trailing "\r" is dropped), so line numbers match `wc -l` / editors even
// if a record holds a stray CR; readline would also break on a lone "\r".
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

export async function* readLines(file: string): AsyncGenerator<Line> {
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
  let carry = '';
  let n = 0;
  const emit = (text: string): Line => {
    n++;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (n === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { line: n, text, bytes };
  };
  try {
    for await (const chunk of source) {
      const text = carry + decoder.write(chunk as Buffer);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        yield emit(text.slice(start, nl));
        start = nl + 1;
      }
      carry = text.slice(start);
    }
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(gz ? `${file}: cannot decompress (line ${n + 1}): ${msg}` : `${file}: read error: ${msg}`);
  }
  carry += decoder.end();
  if (carry.length > 0) yield emit(carry);
}
