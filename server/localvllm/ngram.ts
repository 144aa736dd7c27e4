// A small token n-gram language model: the local server's source of log-probabilities (and of
// text for prompts it does not recognise). Two servers built with different orders, smoothing or
// training data give different, finite log-probabilities for the same tokens, so a policy and a
// reference can be two such models and per-token DPO rewards are real numbers.
import type { LocalTokenizer } from './tokenizer';
import type { Rng } from './rng';

export type Smoothing = 'witten-bell' | 'add-k';
export const SMOOTHINGS: readonly Smoothing[] = ['witten-bell', 'add-k'];

export interface NgramOptions {
  /** n: the model conditions on the previous n-1 tokens (1..8). */
  order: number;
  /** witten-bell: interpolated Witten-Bell down to a uniform distribution over the vocabulary;
   * add-k: add-k on the longest seen context (backing off to shorter ones when unseen). */
  smoothing: Smoothing;
  /** The k of add-k (> 0). */
  k: number;
}

export const DEFAULT_NGRAM: NgramOptions = { order: 3, smoothing: 'witten-bell', k: 0.1 };

interface Context {
  total: number;
  counts: Map<number, number>;
}

const CACHE_SIZE = 512;
/** Scored (context, token) pairs kept for prompt log-probabilities: scoring sends each prompt
 * several times (both sides of a pair share it, every pair of a problem shares its question). */
const SCORED_CACHE_SIZE = 100_000;

export class NgramModel {
  readonly opts: NgramOptions;
  private readonly v: number;
  /** levels[l]: contexts of l tokens (l >= 1), keyed by the ids joined with ','. */
  private readonly levels: Map<string, Context>[] = [];
  private readonly unigram: Context = { total: 0, counts: new Map() };
  private trainedTokens = 0;
  private readonly cache = new Map<string, { dist: Float64Array }>();
  private readonly scoredCache = new Map<string, { logprob: number; rank: number }>();

  constructor(
    private readonly tok: LocalTokenizer,
    opts: Partial<NgramOptions> = {},
  ) {
    this.opts = { ...DEFAULT_NGRAM, ...opts };
    const { order, smoothing, k } = this.opts;
    if (!Number.isInteger(order) || order < 1 || order > 8) throw new Error(`n-gram order must be an integer in 1..8 (got ${order})`);
    if (!(SMOOTHINGS as readonly string[]).includes(smoothing)) throw new Error(`n-gram smoothing must be one of ${SMOOTHINGS.join(', ')} (got ${smoothing})`);
    if (!(k > 0) || !Number.isFinite(k)) throw new Error(`n-gram add-k needs k > 0 (got ${k})`);
    this.v = tok.size;
    for (let l = 0; l < order; l++) this.levels.push(new Map());
  }

  get tokens(): number {
    return this.trainedTokens;
  }

  /** Adds one document (a token sequence; the caller appends the end-of-text token). */
  train(seq: readonly number[]): void {
    this.cache.clear();
    this.scoredCache.clear();
    this.uni = undefined;
    const order = this.opts.order;
    for (let i = 0; i < seq.length; i++) {
      const w = seq[i];
      bump(this.unigram, w);
      let key = '';
      for (let l = 1; l < order && i - l >= 0; l++) {
        key = l === 1 ? String(seq[i - 1]) : `${seq[i - l]},${key}`;
        let ctx = this.levels[l].get(key);
        if (!ctx) {
          ctx = { total: 0, counts: new Map() };
          this.levels[l].set(key, ctx);
        }
        bump(ctx, w);
      }
    }
    this.trainedTokens += seq.length;
  }

  /** The contexts that condition the next token after `history`, shortest first (index = length). */
  private contexts(history: readonly number[], end = history.length): (Context | undefined)[] {
    const out: (Context | undefined)[] = [this.unigram.total > 0 ? this.unigram : undefined];
    let key = '';
    for (let l = 1; l < this.opts.order && end - l >= 0; l++) {
      key = l === 1 ? String(history[end - 1]) : `${history[end - l]},${key}`;
      out.push(this.levels[l].get(key));
    }
    return out;
  }

  /** Natural-log probability of `id` after history[0..end). */
  logprob(history: readonly number[], id: number, end = history.length): number {
    const ctxs = this.contexts(history, end);
    let p: number;
    if (this.opts.smoothing === 'witten-bell') {
      p = 1 / this.v;
      for (const c of ctxs) {
        if (!c) continue;
        const t = c.counts.size;
        p = ((c.counts.get(id) ?? 0) + t * p) / (c.total + t);
      }
    } else {
      const c = deepest(ctxs);
      const k = this.opts.k;
      p = c ? ((c.counts.get(id) ?? 0) + k) / (c.total + k * this.v) : 1 / this.v;
    }
    return Math.log(p);
  }

  /** Witten-Bell below the first context level: the interpolated unigram distribution U (dense),
   * its indices by U descending and its values ascending, computed once after training. */
  private uni?: { u: Float64Array; desc: Int32Array; asc: Float64Array };

  private unigramTables(): { u: Float64Array; desc: Int32Array; asc: Float64Array } {
    if (!this.uni) {
      const u = new Float64Array(this.v).fill(1 / this.v);
      const c = this.unigram;
      if (c.total > 0) {
        const t = c.counts.size;
        const scale = t / (c.total + t);
        for (let i = 0; i < u.length; i++) u[i] *= scale;
        for (const [id, cnt] of c.counts) u[this.tok.dense(id)] += cnt / (c.total + t);
      }
      const idx = Array.from({ length: u.length }, (_, i) => i);
      idx.sort((a, b) => u[b] - u[a] || a - b);
      const asc = Float64Array.from(u).sort();
      this.uni = { u, desc: Int32Array.from(idx), asc };
    }
    return this.uni;
  }

  /** The next-token distribution as `P(w) = scale * base(w) + add(w)`, `add` sparse (dense index ->
   * value). Witten-Bell: base = the interpolated unigram U. Add-k: base = uniform mass k/(c+kV)
   * scaled to 1 per token, i.e. scale = k/(c+kV) and base(w) = 1. */
  private sparse(history: readonly number[], end: number): { scale: number; add: Map<number, number>; uniformBase: boolean } {
    const ctxs = this.contexts(history, end);
    const add = new Map<number, number>();
    if (this.opts.smoothing === 'witten-bell') {
      let scale = 1;
      for (const c of ctxs.slice(1)) {
        if (!c) continue;
        const t = c.counts.size;
        const lambda = t / (c.total + t);
        scale *= lambda;
        for (const [d, x] of add) add.set(d, x * lambda);
        for (const [id, cnt] of c.counts) {
          const d = this.tok.dense(id);
          add.set(d, (add.get(d) ?? 0) + cnt / (c.total + t));
        }
      }
      return { scale, add, uniformBase: false };
    }
    const c = deepest(ctxs);
    if (!c) return { scale: 1 / this.v, add, uniformBase: true };
    const denom = c.total + this.opts.k * this.v;
    for (const [id, cnt] of c.counts) add.set(this.tok.dense(id), cnt / denom);
    return { scale: this.opts.k / denom, add, uniformBase: true };
  }

  /** The whole next-token distribution (dense, indexed by tokenizer.dense(id)), cached per context. */
  distribution(history: readonly number[], end = history.length): Float64Array {
    return this.entry(history, end).dist;
  }

  private entry(history: readonly number[], end: number): { dist: Float64Array } {
    const n = Math.min(end, this.opts.order - 1);
    const key = history.slice(end - n, end).join(',');
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const { scale, add, uniformBase } = this.sparse(history, end);
    const dist = new Float64Array(this.v);
    if (uniformBase) dist.fill(scale);
    else {
      const u = this.unigramTables().u;
      for (let i = 0; i < dist.length; i++) dist[i] = scale * u[i];
    }
    for (const [d, x] of add) dist[d] += x;
    const e = { dist };
    this.cache.set(key, e);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return e;
  }

  /** The k most likely next tokens with their log-probabilities (ties by id order). Works on the
   * sparse form: outside the context's seen tokens the order is the base order, so the candidates
   * are the seen tokens plus the first k + |seen| tokens of the base order. */
  top(history: readonly number[], k: number, end = history.length): { id: number; logprob: number }[] {
    if (k <= 0) return [];
    const { scale, add, uniformBase } = this.sparse(history, end);
    const u = uniformBase ? null : this.unigramTables();
    const base = (d: number) => (u ? u.u[d] : 1);
    const cand = new Set<number>(add.keys());
    const need = Math.min(this.v, k + add.size);
    for (let i = 0; i < need; i++) cand.add(u ? u.desc[i] : i);
    const scored = [...cand].map((d) => ({ d, p: scale * base(d) + (add.get(d) ?? 0) }));
    scored.sort((a, b) => b.p - a.p || a.d - b.d);
    return scored.slice(0, k).map((x) => ({ id: this.tok.ids[x.d], logprob: Math.log(x.p) }));
  }

  /** logprob() and rank() of `id` after history[0..end), remembered per (context, token). */
  scored(history: readonly number[], id: number, end = history.length): { logprob: number; rank: number } {
    const n = Math.min(end, this.opts.order - 1);
    let key = String(id);
    for (let i = end - n; i < end; i++) key += `,${history[i]}`;
    let hit = this.scoredCache.get(key);
    if (!hit) {
      hit = { logprob: this.logprob(history, id, end), rank: this.rank(history, id, end) };
      this.scoredCache.set(key, hit);
      if (this.scoredCache.size > SCORED_CACHE_SIZE) this.scoredCache.delete(this.scoredCache.keys().next().value as string);
    }
    return hit;
  }

  /** 1-based rank of \`id\` in the next-token distribution (1 + the number of strictly likelier
   * tokens), in O(seen tokens + log V) from the sparse form. */
  rank(history: readonly number[], id: number, end = history.length): number {
    const { scale, add, uniformBase } = this.sparse(history, end);
    const d = this.tok.dense(id);
    const own = add.get(d);
    if (uniformBase) {
      const p = scale + (own ?? 0);
      let r = 1;
      for (const x of add.values()) if (scale + x > p) r++;
      return r;
    }
    const { u, asc } = this.unigramTables();
    const p = scale * u[d] + (own ?? 0);
    // Tokens outside the seen set: P = scale * U, likelier than p iff U > p / scale.
    const thr = own === undefined ? u[d] : p / scale;
    let lo = 0;
    let hi = asc.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (asc[mid] <= thr) lo = mid + 1;
      else hi = mid;
    }
    // All tokens with U > thr, minus the seen ones (and the token itself) among them, plus the
    // seen ones that really are likelier.
    let r = 1 + (asc.length - lo);
    for (const [x, a] of add) {
      if (u[x] > thr) r--;
      if (x !== d && scale * u[x] + a > p) r++;
    }
    return r;
  }

  /** Samples the next token with vLLM's temperature / top-p semantics (temperature 0 = greedy).
   * Walks the tokens from likeliest down by merging the context's seen tokens with the base
   * order (as in top()), so the nucleus is found without sorting the vocabulary. */
  sample(history: readonly number[], rng: Rng, temperature: number, topP: number): number {
    if (temperature <= 1e-5) return this.top(history, 1)[0].id;
    const { scale, add, uniformBase } = this.sparse(history, history.length);
    const u = uniformBase ? null : this.unigramTables();
    const p = (d: number) => scale * (u ? u.u[d] : 1) + (add.get(d) ?? 0);
    const inv = 1 / temperature;
    let z = 0;
    for (let d = 0; d < this.v; d++) z += Math.pow(p(d), inv);
    const limit = topP >= 1 ? Infinity : topP * z;
    const seen = [...add.keys()].sort((a, b) => p(b) - p(a) || a - b);
    const kept: number[] = [];
    const weights: number[] = [];
    let acc = 0;
    let i = 0;
    let j = 0;
    while (acc < limit && (i < this.v || j < seen.length)) {
      while (i < this.v && add.has(u ? u.desc[i] : i)) i++;
      const b = i < this.v ? (u ? u.desc[i] : i) : -1;
      const sj = j < seen.length ? seen[j] : -1;
      let d: number;
      if (b < 0) d = seen[j++];
      else if (sj < 0) {
        d = b;
        i++;
      } else if (p(sj) > p(b) || (p(sj) === p(b) && sj < b)) d = seen[j++];
      else {
        d = b;
        i++;
      }
      const w = Math.pow(p(d), inv);
      kept.push(d);
      weights.push(w);
      acc += w;
    }
    let r = rng() * acc;
    for (let k = 0; k < kept.length; k++) {
      r -= weights[k];
      if (r < 0) return this.tok.ids[kept[k]];
    }
    return this.tok.ids[kept[kept.length - 1]];
  }
}

function bump(c: Context, w: number): void {
  c.total++;
  c.counts.set(w, (c.counts.get(w) ?? 0) + 1);
}

function deepest(ctxs: (Context | undefined)[]): Context | undefined {
  for (let i = ctxs.length - 1; i >= 0; i--) if (ctxs[i]) return ctxs[i];
  return undefined;
}
