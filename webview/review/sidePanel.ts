// What stands beside the pair: the problem statement (collapsible), the pair's facts, the run that
// failed the rejected side and the one that passed the chosen side, and every candidate of the same
// target with its verdict (each can be put on the left against the rejected side). Text only.
import type { Candidate, EditResult, Pair, SideRun, TestView } from '../contract';
import { el, setChildren } from './dom';

const VERDICT_LABEL: Record<string, string> = {
  pass: 'pass',
  wrong_answer: 'wrong answer',
  runtime_error: 'runtime error',
  timeout: 'timeout',
  memory_limit: 'memory limit',
  output_limit: 'output limit',
  compile_error: 'compile error',
};

export function verdictLabel(v: string | null | undefined): string {
  return v ? (VERDICT_LABEL[v] ?? v) : 'not run';
}

function field(label: string, value: string | null | undefined): HTMLElement | null {
  if (value === null || value === undefined || value === '') return null;
  return el('div', { className: 'pf-field' }, el('span', { className: 'pf-field-label' }, label), el('span', { className: 'pf-field-value' }, value));
}

function block(label: string, text: string | undefined): HTMLElement | null {
  if (text === undefined) return null;
  return el('div', { className: 'pf-block' }, el('div', { className: 'pf-field-label' }, label), el('pre', { className: 'pf-pre' }, text));
}

function testView(t: TestView | undefined): HTMLElement[] {
  if (!t) return [];
  return [
    field('test', `#${t.ordinal + 1} · ${verdictLabel(t.verdict)} · ${Math.round(t.durationMs)} ms`),
    block('input', t.input),
    block('expected', t.expected),
    block('got', t.output),
    block('message', t.message),
    block('stderr (tail)', t.stderrTail),
  ].filter((x): x is HTMLElement => x !== null);
}

function runView(title: string, r: SideRun | undefined): HTMLElement {
  if (!r) return el('section', { className: 'pf-section' }, el('h3', {}, title), el('div', { className: 'pf-muted' }, 'no stored run'));
  return el(
    'section',
    { className: 'pf-section' },
    el('h3', {}, title),
    field('verdict', `${verdictLabel(r.verdict)} · ${r.testsRun}/${r.testsTotal} tests run · ${r.comparator}`),
    ...testView(r.test),
  );
}

const ROLE_LABEL: Record<NonNullable<Candidate['role']>, string> = { chosen: 'chosen', rejected: 'rejected', replaced: 'chosen until edited' };

/** Who edited the chosen side and when, its verdict and the sandbox its tests ran in, and the
 * candidates it replaced (by their number in the list below). */
function editLine(pair: Pair, e: NonNullable<Pair['edit']>): string {
  const run = e.verdict ? `${verdictLabel(e.verdict)} · ${e.isolation ?? 'sandbox not recorded'}` : 'not run';
  const numbers = e.replacedSamples.map((id) => pair.candidates.find((c) => c.sampleId === id)?.ordinal).filter((n): n is number => n !== undefined);
  const replaced = numbers.length ? `; replaced candidate ${numbers.map((n) => `#${n}`).join(', ')}` : '';
  return `edited by ${e.reviewer} at ${e.at} (${run})${replaced}`;
}

export class SidePanel {
  readonly root = el('aside', { className: 'pf-side', attrs: { 'aria-label': 'pair details' } });
  questionOpen = false;

  constructor(
    private readonly onCandidate: (c: Candidate | undefined) => void,
    private readonly onQuestionToggle: (open: boolean) => void,
  ) {}

  show(pair: Pair, compared: Candidate | undefined, editRun?: EditResult): void {
    const question = el('details', { className: 'pf-question' }, el('summary', {}, `problem ${pair.problem.label}`), el('pre', { className: 'pf-pre' }, pair.problem.question));
    question.open = this.questionOpen;
    question.addEventListener('toggle', () => {
      this.questionOpen = question.open;
      this.onQuestionToggle(question.open);
    });
    const facts = el(
      'section',
      { className: 'pf-section' },
      el('h3', {}, `pair ${pair.pairId}`),
      field('status', pair.status),
      field('kind', pair.kind === 'fim' ? `fim · ${pair.blockKind ?? 'block'} · depth ${pair.depth ?? '?'}` : pair.kind),
      field('mode', pair.mode),
      field('edit distance', pair.editDistance === null ? null : String(pair.editDistance)),
      field('flags', pair.flags.length ? pair.flags.join(', ') : 'none'),
      field('note', pair.note),
      pair.edit ? field('chosen side', editLine(pair, pair.edit)) : null,
    );
    const candidates = el(
      'section',
      { className: 'pf-section' },
      el('h3', {}, `candidates of this target (${pair.candidates.length})`),
      pair.candidates.length === 0 ? el('div', { className: 'pf-muted' }, pair.kind === 'iterpref' ? 'a history pair: its versions are the two sides' : 'none stored') : null,
      ...pair.candidates.map((c) =>
        el(
          'button',
          {
            className: `pf-candidate${compared?.sampleId === c.sampleId ? ' pf-candidate-on' : ''}`,
            title: c.middle,
            onClick: () => this.onCandidate(compared?.sampleId === c.sampleId ? undefined : c),
          },
          el('span', { className: `pf-verdict pf-verdict-${c.verdict ?? 'none'}` }, verdictLabel(c.verdict)),
          ` #${c.ordinal}${c.role ? ` (${ROLE_LABEL[c.role]})` : ''} `,
          el('span', { className: 'pf-candidate-line' }, c.middle.split('\n').find((l) => l.trim() !== '')?.trim() ?? ''),
        ),
      ),
      compared ? el('button', { className: 'pf-link', onClick: () => this.onCandidate(undefined) }, 'show the rejected side again') : null,
    );
    const edit = editRun
      ? el('section', { className: 'pf-section' }, el('h3', {}, 'edited chosen side'), field('verdict', `${verdictLabel(editRun.verdict)} · ${editRun.tests.length}/${editRun.testsTotal} tests · ${editRun.isolation}`), ...testView(editRun.tests.find((t) => t.verdict !== 'pass')))
      : null;
    setChildren(this.root, question, facts, edit, runView('rejected side: its failing run', pair.rejectedRun), runView('chosen side: its passing run', pair.chosenRun), candidates);
  }
}
