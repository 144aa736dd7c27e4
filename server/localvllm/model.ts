// The local server's "model": honest and small. For a FIM prompt (or a chat prompt) of a target it
// knows, it writes the reference middle, a reformatted copy or a mutant of it, then the family's
// end token; for anything else it samples from its n-gram model. A chat prompt whose question is
// that of a problem with a whole-program target (and whose code so far, the starter code, begins
// that program) is answered with the rest of the reference program, a reformat or a mutant of it,
// then the closing fence. Log-probabilities always come
// from the n-gram model, which learns from the project's solutions.
import { CHAT_END, FIM_TOKENS, parseChatPrompt, parseFimPrompt, programContinuation, type PromptFamily } from './fim';
import { NO_KNOWLEDGE, ProjectKnowledge, type Knowledge, type KnownTarget } from './knowledge';
import { MUTANT_KINDS, variants, type VariantKind } from './mutants';
import { NgramModel, type NgramOptions } from './ngram';
import { pickWeighted, type Rng } from './rng';
import { localTokenizer, type LocalTokenizer, type TokenizerKind } from './tokenizer';

export interface ModelOptions {
  /** Project file to learn from (opened read-only). Without one the model knows no targets and
   * its n-gram model is uniform. */
  db?: string;
  ngram?: Partial<NgramOptions>;
  /** Share of the project's solutions the n-gram model learns from (0 < f <= 1, chosen by id hash). */
  ngramFraction?: number;
  /** Stop learning after this many tokens (keeps start-up bounded on big projects). */
  maxTrainTokens?: number;
  /** Relative weights of what a sample of a known block is (at temperature 0.7; mutants grow with temperature). */
  mix?: Partial<Mix>;
  /** Default 'pieces' (tokenizer.ts). */
  tokenizer?: TokenizerKind;
}

export interface Mix {
  reference: number;
  reformat: number;
  mutant: number;
  /** Chance that the model runs on into the suffix before ending (clients truncate it). */
  runOn: number;
  /** Qwen2.5-Coder / StarCoder2 only: chance that the middle is followed by the (non-EOS)
   * file-separator token and a next file, as real repo-level models do; a client that does not
   * stop on it explicitly keeps the junk (docs/published.md "vLLM's OpenAI-compatible server"). Off by default. */
  fileSep: number;
}

export const DEFAULT_MIX: Mix = { reference: 0.4, reformat: 0.15, mutant: 0.45, runOn: 0.1, fileSep: 0 };

/** What the model will write for one sample. */
export interface Plan {
  family: PromptFamily | null;
  /** known: a scripted block; ngram: free sampling from the n-gram model. */
  mode: 'known' | 'ngram';
  variant?: VariantKind;
  targetId?: number;
  /** known: the tokens to emit, end tokens included. */
  script?: number[];
  /** ngram, FIM: end the block once a line returns to this indentation (like a model finishing a block). */
  blockIndent?: number;
}

export class LocalModel {
  readonly tok: LocalTokenizer;
  readonly ngram: NgramModel;
  readonly knowledge: Knowledge;
  readonly mix: Mix;
  private readonly variantCache = new Map<number, Record<VariantKind, string[]>>();
  // Sampling sends each prompt once with n samples, but benchmarks and resumed jobs repeat
  // prompts; these bounded caches keep the server's CPU per request small.
  private readonly encodeCache = new Map<string, number[]>();
  private readonly fimCache = new Map<string, KnownTarget | null>();
  private readonly understood = new Map<string, Understood>();

  constructor(opts: ModelOptions = {}) {
    this.tok = localTokenizer(opts.tokenizer);
    this.ngram = new NgramModel(this.tok, opts.ngram);
    this.mix = { ...DEFAULT_MIX, ...opts.mix };
    for (const [k, v] of Object.entries(this.mix)) if (!(Number.isFinite(v) && v >= 0)) throw new Error(`mix.${k} must be a number >= 0 (got ${v})`);
    if (this.mix.runOn > 1 || this.mix.fileSep > 1) throw new Error('mix.runOn and mix.fileSep are probabilities (<= 1)');
    const fraction = opts.ngramFraction ?? 1;
    if (!(fraction > 0 && fraction <= 1)) throw new Error(`ngram fraction must be in (0, 1] (got ${fraction})`);
    if (opts.db) {
      const k = new ProjectKnowledge(opts.db);
      this.knowledge = k;
      const eot = this.tok.special('<|endoftext|>') as number;
      const limit = opts.maxTrainTokens ?? 3_000_000;
      try {
        for (const code of k.solutions(fraction)) {
          if (this.ngram.tokens >= limit) break;
          this.ngram.train([...this.tok.encode(code), eot]);
        }
      } catch (e) {
        k.close();
        throw e;
      }
    } else {
      this.knowledge = NO_KNOWLEDGE;
    }
  }

  close(): void {
    this.knowledge.close();
  }

  /** Token ids of a text the model writes (cached; callers must not mutate the result). */
  encodeCached(text: string): readonly number[] {
    let ids = this.encodeCache.get(text);
    if (!ids) {
      ids = this.tok.encode(text);
      this.encodeCache.set(text, ids);
      if (this.encodeCache.size > 2048) this.encodeCache.delete(this.encodeCache.keys().next().value as string);
    }
    return ids;
  }

  private lookupFim(prefixText: string, suf: string): KnownTarget | null {
    const key = `${suf}\u0000${prefixText}`;
    let t = this.fimCache.get(key);
    if (t === undefined) {
      t = this.knowledge.lookupFim(prefixText, suf);
      this.fimCache.set(key, t);
      if (this.fimCache.size > 1024) this.fimCache.delete(this.fimCache.keys().next().value as string);
    }
    return t;
  }

  private variantsOf(t: KnownTarget): Record<VariantKind, string[]> {
    let v = this.variantCache.get(t.id);
    if (!v) {
      v = variants(t.mid);
      this.variantCache.set(t.id, v);
      if (this.variantCache.size > 4096) this.variantCache.delete(this.variantCache.keys().next().value as number);
    }
    return v;
  }

  /** What a prompt asks for, worked out once per prompt (a request's n samples share it). */
  private understand(prompt: string): Understood {
    let u = this.understood.get(prompt);
    if (u) return u;
    u = { family: null, start: '', target: null };
    const fim = parseFimPrompt(prompt);
    const chat = fim ? null : parseChatPrompt(prompt);
    if (fim) {
      u.family = fim.family;
      u.start = fim.start;
      u.blockIndent = fim.start.length - fim.start.trimStart().length;
      const t = this.lookupFim(fim.prefixText, fim.suf);
      if (t && t.mid.startsWith(fim.start)) u.target = t;
    } else if (chat) {
      u.family = 'chat';
      const program = this.knowledge.lookupProgram(chat.question, chat.code);
      if (program) {
        // The model continues the code already written (the starter code) to a whole program.
        const code = chat.code;
        u.target = program;
        u.continuation = (text) => programContinuation(text, code);
      } else {
        u.target = this.knowledge.lookupChat(chat.code);
      }
    }
    if (u.target) {
      const all = this.variantsOf(u.target);
      const cont = u.continuation;
      const ok = (xs: string[]) => xs.filter((x) => (cont ? cont(x) !== null : x.startsWith(u.start)));
      u.reformats = ok(all.reformat);
      u.mutants = MUTANT_KINDS.map((kind) => ({ kind, texts: ok(all[kind]) })).filter((m) => m.texts.length > 0);
    }
    this.understood.set(prompt, u);
    if (this.understood.size > 1024) this.understood.delete(this.understood.keys().next().value as string);
    return u;
  }

  /** Reference, reformat or mutant, each starting with the prompt's `start`. Temperature 0 is greedy: the reference. */
  private chooseVariant(u: Understood, rng: Rng, temperature: number): { kind: VariantKind; text: string } {
    const t = u.target as KnownTarget;
    if (temperature <= 1e-5) return { kind: 'reference', text: t.mid };
    const reformats = u.reformats ?? [];
    const mutants = u.mutants ?? [];
    const heat = Math.min(2, Math.max(0.3, temperature / 0.7));
    const weights = [this.mix.reference, reformats.length > 0 ? this.mix.reformat : 0, mutants.length > 0 ? this.mix.mutant * heat : 0];
    const which = pickWeighted(rng, weights);
    if (which === 1) return { kind: 'reformat', text: reformats[Math.floor(rng() * reformats.length)] };
    if (which === 2) {
      const m = mutants[Math.floor(rng() * mutants.length)];
      return { kind: m.kind, text: m.texts[Math.floor(rng() * m.texts.length)] };
    }
    return { kind: 'reference', text: t.mid };
  }

  /** Decides what one sample of `prompt` will be. */
  plan(prompt: string, rng: Rng, temperature: number): Plan {
    const u = this.understand(prompt);
    const t = u.target;
    if (u.family === 'chat') {
      if (!t) return { family: 'chat', mode: 'ngram' };
      const v = this.chooseVariant(u, rng, temperature);
      const text = u.continuation ? (u.continuation(v.text) ?? '') : v.text;
      const script = [...this.encodeCached(text + t.suf + CHAT_END[0]), this.tok.special(CHAT_END[1]) as number];
      return { family: 'chat', mode: 'known', variant: v.kind, targetId: t.id, script };
    }
    if (u.family === null) return { family: null, mode: 'ngram' };
    if (!t) return { family: u.family, mode: 'ngram', ...(u.blockIndent !== undefined ? { blockIndent: u.blockIndent } : {}) };
    const v = this.chooseVariant(u, rng, temperature);
    let text = v.text.slice(u.start.length);
    if (temperature > 1e-5 && t.suf.trim() !== '' && rng() < this.mix.runOn) text += t.suf.split('\n').slice(0, 3).join('\n');
    const end = FIM_TOKENS[u.family].end.map((s) => this.tok.special(s) as number);
    const sep = u.family === 'qwen2.5-coder' ? '<|file_sep|>' : u.family === 'starcoder2' ? '<file_sep>' : null;
    if (sep && this.mix.fileSep > 0 && rng() < this.mix.fileSep) {
      // Not an end token: generation goes on with a next file until the EOS.
      const next = this.encodeCached('tests/test_solution.py\nimport solution\n');
      return { family: u.family, mode: 'known', variant: v.kind, targetId: t.id, script: [...this.encodeCached(text), this.tok.special(sep) as number, ...next, ...end] };
    }
    return { family: u.family, mode: 'known', variant: v.kind, targetId: t.id, script: [...this.encodeCached(text), ...end] };
  }
}

interface Understood {
  family: PromptFamily | null;
  /** FIM: the text after the middle token. */
  start: string;
  /** Chat of a whole program: what follows the code already written for a program text (null
   * when that text cannot follow it). */
  continuation?: (text: string) => string | null;
  blockIndent?: number;
  target: KnownTarget | null;
  /** The target's reformats and mutants that start with `start` (mutant kinds with none left out). */
  reformats?: string[];
  mutants?: { kind: VariantKind; texts: string[] }[];
}
