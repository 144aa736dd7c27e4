// A JSON writer that keeps dictionary order. vLLM (Python) emits logprob dictionaries in insertion
// order — the sampled token first — but a JavaScript object reorders integer-like keys (token ids,
// digit tokens), so those dictionaries are built as `Ordered` and written here.

export class Ordered {
  constructor(readonly entries: [string, unknown][]) {}
}

export function toJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`toJson: non-finite number ${v}`);
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    case 'object':
      break;
    default:
      throw new Error(`toJson: cannot write a ${typeof v}`);
  }
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v instanceof Ordered) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${toJson(x)}`);
  }
  return `{${parts.join(',')}}`;
}
