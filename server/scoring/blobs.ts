// Per-token arrays as BLOBs: little-endian int32 / float32 / uint8, whatever the machine's byte
// order (docs/scoring.md, "Runs and storage"). Pure.

export function int32Blob(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeInt32LE(values[i], i * 4);
  return b;
}

export function float32Blob(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i], i * 4);
  return b;
}

export function uint8Blob(values: ArrayLike<number>): Buffer {
  return Buffer.from(Uint8Array.from(values));
}

function checkLength(b: Buffer, width: number, what: string): number {
  if (b.length % width !== 0) throw new Error(`${what}: ${b.length} bytes is not a whole number of ${width}-byte values`);
  return b.length / width;
}

export function readInt32(b: Buffer, what = 'int32 blob'): Int32Array {
  const n = checkLength(b, 4, what);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = b.readInt32LE(i * 4);
  return out;
}

export function readFloat32(b: Buffer, what = 'float32 blob'): Float32Array {
  const n = checkLength(b, 4, what);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

export function readUint8(b: Buffer): Uint8Array {
  return Uint8Array.from(b);
}
