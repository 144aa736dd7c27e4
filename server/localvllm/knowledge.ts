// What the local server knows about a project, read once from the project file (opened
// read-only): which (pre, suf) pairs are targets, which questions have whole-program targets, and
// the solutions its n-gram model learns from. Only hashes and ids stay in memory; a target's text
// is read back when a prompt asks for it.
import { createHash } from 'node:crypto';
import { openProject, type Project } from '../store/db';
import { questionAsComments } from '../sampling/prompts';
import { candidatesPre, programContinuation } from './fim';
import { hash32 } from './rng';
import { problemLookup, solutionCodes } from '../import/queries';
import { blockTargetEnds, programTargets, targetLookup } from '../targets/queries';

export interface KnownTarget {
  id: number;
  pre: string;
  mid: string;
  suf: string;
}

export interface Knowledge {
  /** The target whose `pre` ends `prefixText` (after an optional question header) and whose `suf` is `suf`. */
  lookupFim(prefixText: string, suf: string): KnownTarget | null;
  /** A target whose `pre` is exactly `code` (chat prompts: the code already written). */
  lookupChat(code: string): KnownTarget | null;
  /** A whole-program target (kind 'program') of a problem whose question is exactly `question`
   * and whose program `code` (the starter code already written) can begin (programContinuation);
   * the lowest id. */
  lookupProgram(question: string, code: string): KnownTarget | null;
  readonly targets: number;
  close(): void;
}

const keyOf = (pre: string, suf: string) => createHash('sha1').update(suf).update('\u0000').update(pre).digest('base64');
const preKey = (pre: string) => createHash('sha1').update(pre).digest('base64');

export const NO_KNOWLEDGE: Knowledge = {
  lookupFim: () => null,
  lookupChat: () => null,
  lookupProgram: () => null,
  targets: 0,
  close: () => undefined,
};

export class ProjectKnowledge implements Knowledge {
  private readonly p: Project;
  private readonly byPreSuf = new Map<string, number[]>();
  private readonly byPre = new Map<string, number>();
  /** Whole-program targets by a hash of their problem's question. */
  private readonly byQuestion = new Map<string, number[]>();
  private readonly get: (id: number) => KnownTarget | undefined;
  private readonly questionOf: (id: number) => string | undefined;
  readonly targets: number;

  constructor(file: string) {
    this.p = openProject(file, { readonly: true });
    let n = 0;
    // Whole programs are found by their question (their pre and suf are empty, so every one of
    // them would answer every FIM or chat prompt with an empty prefix).
    const problemText = problemLookup(this.p);
    const questionOfProblem = (id: number) => problemText(id)?.question;
    for (const row of programTargets(this.p)) {
      const question = questionOfProblem(row.problem_id);
      if (question === undefined) continue;
      const k = preKey(question);
      const ids = this.byQuestion.get(k);
      if (ids) ids.push(row.id);
      else this.byQuestion.set(k, [row.id]);
      n++;
    }
    for (const row of blockTargetEnds(this.p)) {
      const k = keyOf(row.pre, row.suf);
      const ids = this.byPreSuf.get(k);
      if (ids) ids.push(row.id);
      else this.byPreSuf.set(k, [row.id]);
      const pk = preKey(row.pre);
      if (!this.byPre.has(pk)) this.byPre.set(pk, row.id);
      n++;
    }
    this.targets = n;
    const target = targetLookup(this.p);
    this.get = target;
    // The question of a reference solution's target (a history version's target has none here).
    this.questionOf = (id) => {
      const t = target(id);
      return t && t.solution_id !== null ? questionOfProblem(t.problem_id) : undefined;
    };
  }

  lookupFim(prefixText: string, suf: string): KnownTarget | null {
    for (const pre of candidatesPre(prefixText)) {
      const ids = this.byPreSuf.get(keyOf(pre, suf));
      if (!ids) continue;
      let first: KnownTarget | null = null;
      for (const id of ids) {
        const t = this.get(id);
        if (!t || t.pre !== pre || t.suf !== suf) continue;
        // Several targets share this prefix and suffix (e.g. a whole function, pre = suf = ''):
        // the one whose question heads the prompt is meant.
        if (ids.length === 1 || prefixText === pre) return t;
        first ??= t;
        const q = this.questionOf(id);
        if (q !== undefined && prefixText === `${questionAsComments(q)}\n\n${pre}`) return t;
      }
      if (first) return first;
    }
    return null;
  }

  lookupChat(code: string): KnownTarget | null {
    const id = this.byPre.get(preKey(code));
    if (id === undefined) return null;
    const t = this.get(id);
    return t && t.pre === code ? t : null;
  }

  lookupProgram(question: string, code: string): KnownTarget | null {
    for (const id of this.byQuestion.get(preKey(question)) ?? []) {
      const t = this.get(id);
      if (t && programContinuation(t.mid, code) !== null && this.questionOf(id) === question) return t;
    }
    return null;
  }

  /** The project's reference solutions (those whose id falls in `fraction`, chosen by a hash of
   * the id so two servers with different fractions learn from different, stable subsets). */
  *solutions(fraction = 1): Generator<string> {
    for (const r of solutionCodes(this.p)) {
      if (fraction < 1 && hash32(`solution:${r.id}`) / 4294967296 >= fraction) continue;
      yield r.code;
    }
  }

  close(): void {
    this.p.close();
  }
}
