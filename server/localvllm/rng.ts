// Seeded randomness for the local server: the same (seed, prompt, sample index) always gives the
// same sample, as vLLM promises for a request `seed`.

/** 32-bit FNV-1a over a string's UTF-16 code units, folded with an optional starting value. */
export function hash32(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A PRNG (mulberry32) returning floats in [0, 1). */
export type Rng = () => number;

export function rngFrom(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator for one sample, from the request seed (any integer, possibly beyond 2^53 as text)
 * and the things that make samples differ. */
export function sampleRng(seed: number | string, ...parts: (string | number)[]): Rng {
  let h = hash32(String(seed));
  for (const p of parts) h = hash32(String(p), h ^ 0x9e3779b9);
  return rngFrom(h);
}

/** Picks an index with probability proportional to the weights. */
export function pickWeighted(rng: Rng, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rng() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r < 0) return i;
  }
  return weights.length - 1;
}
