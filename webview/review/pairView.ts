// One pair in a Monaco diff editor: chosen (left) against rejected (right) as whole programs, the
// shared prefix and suffix muted (and folded by the diff's unchanged-region hiding), the rejected
// side's critical lines and differing tokens marked, and the per-token heatmap painted on both.
// Hovering a scored token shows its figures in a tooltip built from text nodes.
import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/languages/definitions/python/register.js';
import type { Candidate, HeatmapMode, Pair, Rewards, ScoredToken, SideRewards } from '../contract';
import { el, setChildren } from './dom';
import { binClass, binOf, clampFor, tokenValue } from './heatmap';

type Side = 'chosen' | 'rejected';

/** A token painted on one side, in program offsets. */
interface Painted {
  start: number;
  end: number;
  token: ScoredToken;
  /** The token's value in the other scoring run, when comparing two runs. */
  other?: ScoredToken;
}

export class PairView {
  readonly diff: monaco.editor.IStandaloneDiffEditor;
  private readonly original = monaco.editor.createModel('', 'python');
  private readonly modified = monaco.editor.createModel('', 'python');
  private readonly tooltip: HTMLElement;
  private decorations: { chosen: monaco.editor.IEditorDecorationsCollection; rejected: monaco.editor.IEditorDecorationsCollection };
  private pair: Pair | undefined;
  /** What the left side shows: the chosen side, or another candidate of the target. */
  /** The chosen side's program as shown (the left side, always), and the candidate shown on the
   * right against it instead of the rejected side, when one is. */
  private chosenText = '';
  private candidate: Candidate | undefined;
  private painted: Record<Side, Painted[]> = { chosen: [], rejected: [] };
  private rewards: Rewards | undefined;
  private beta = 0;
  editing = false;

  constructor(container: HTMLElement, tooltipHost: HTMLElement) {
    this.diff = monaco.editor.createDiffEditor(container, {
      readOnly: true,
      originalEditable: false,
      renderSideBySide: true,
      // Chosen beside rejected even in a narrow panel: the two sides are the point of the room.
      useInlineViewWhenSpaceIsLimited: false,
      automaticLayout: true,
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      renderOverviewRuler: false,
      hideUnchangedRegions: { enabled: true, contextLineCount: 3, minimumLineCount: 3, revealLineCount: 10 },
      fontSize: 13,
      lineNumbersMinChars: 3,
      glyphMargin: false,
      folding: false,
      wordWrap: 'off',
    });
    this.diff.setModel({ original: this.original, modified: this.modified });
    this.decorations = {
      chosen: this.diff.getOriginalEditor().createDecorationsCollection(),
      rejected: this.diff.getModifiedEditor().createDecorationsCollection(),
    };
    this.tooltip = el('div', { className: 'pf-tooltip', attrs: { role: 'tooltip' } });
    this.tooltip.hidden = true;
    tooltipHost.append(this.tooltip);
    for (const side of ['chosen', 'rejected'] as const) {
      const editor = side === 'chosen' ? this.diff.getOriginalEditor() : this.diff.getModifiedEditor();
      editor.onMouseMove((e) => this.hover(side, e));
      editor.onMouseLeave(() => (this.tooltip.hidden = true));
    }
  }

  /** Shows a pair: the chosen side on the left, and on the right the rejected side, or another
   * candidate of the target against the chosen side when given. `paint` false: the caller paints
   * next (setHeatmap), so the decorations are made once. */
  show(pair: Pair, candidate?: Candidate, paint = true): void {
    this.pair = pair;
    this.candidate = candidate;
    this.chosenText = pair.pre + pair.chosen + pair.suf;
    this.setEditing(false);
    this.original.setValue(this.chosenText);
    this.modified.setValue(pair.pre + (candidate ? candidate.middle : pair.rejected) + pair.suf);
    if (paint) this.paint();
  }

  /** The rewards of the shown pair (undefined: none), painted in `mode`; `compare` is a second
   * run: the heatmap then shows the change of each token's reward between the two. */
  setHeatmap(rewards: Rewards | undefined, mode: HeatmapMode, compare?: Rewards): { ms: number; clamp: number } {
    this.rewards = rewards;
    this.beta = rewards?.beta ?? 0;
    const started = performance.now();
    this.paint(mode, compare);
    return { ms: performance.now() - started, clamp: this.clamp };
  }

  private mode: HeatmapMode = 'reward';
  private compare: Rewards | undefined;
  /** The clamp of the scale painted last (the legend shows it). */
  private clamp = 1;

  /** Every decoration of both sides, from scratch. */
  private paint(mode: HeatmapMode = this.mode, compare: Rewards | undefined = this.compare): void {
    this.mode = mode;
    this.compare = compare;
    const pair = this.pair;
    if (!pair) return;
    const base = pair.pre.length;
    const chosenDecos: monaco.editor.IModelDeltaDecoration[] = [];
    const rejectedDecos: monaco.editor.IModelDeltaDecoration[] = [];
    const range = (model: monaco.editor.ITextModel, start: number, end: number) => {
      const a = model.getPositionAt(start);
      const b = model.getPositionAt(end);
      return new monaco.Range(a.lineNumber, a.column, b.lineNumber, b.column);
    };
    // The shared context of a FIM pair, muted.
    for (const [model, decos] of [
      [this.original, chosenDecos],
      [this.modified, rejectedDecos],
    ] as const) {
      if (pair.pre.length > 0) decos.push({ range: range(model, 0, pair.pre.length), options: { inlineClassName: 'pf-context' } });
      if (pair.suf.length > 0) decos.push({ range: range(model, model.getValueLength() - pair.suf.length, model.getValueLength()), options: { inlineClassName: 'pf-context' } });
    }
    // The rejected side's critical lines and differing tokens (not on a candidate shown instead).
    for (const m of this.candidate ? [] : pair.marks) {
      const r = range(this.modified, base + m.start, base + m.end);
      rejectedDecos.push(
        m.kind === 'line'
          ? { range: r, options: { className: 'pf-critical-line', isWholeLine: true, overviewRuler: { color: 'rgba(230, 97, 1, 0.7)', position: monaco.editor.OverviewRulerLane.Right } } }
          : { range: r, options: { inlineClassName: 'pf-critical-token' } },
      );
    }
    this.painted = { chosen: [], rejected: [] };
    const rewards = this.rewards;
    this.clamp = rewards ? clampOf(rewards, compare, mode) : 1;
    const clamp = this.clamp;
    if (rewards && mode !== 'off' && !this.candidate) {
      for (const side of ['chosen', 'rejected'] as const) {
        const model = side === 'chosen' ? this.original : this.modified;
        const decos = side === 'chosen' ? chosenDecos : rejectedDecos;
        const s: SideRewards = rewards[side];
        const other = compare?.[side];
        const text = side === 'chosen' ? pair.chosen : pair.rejected;
        // Adjacent tokens of the same colour become one decoration (fewer for Monaco to lay out).
        let run: { start: number; end: number; classes: string } | undefined;
        const flush = () => {
          if (run?.classes) decos.push({ range: range(model, run.start, run.end), options: { inlineClassName: run.classes } });
          run = undefined;
        };
        s.tokens.forEach((t, i) => {
          if (t.start >= text.length) return; // an end token past the shown text
          const o = other?.tokens[i] && other.tokens[i].start === t.start ? other.tokens[i] : undefined;
          const value = compare ? (o ? t.reward - o.reward : undefined) : tokenValue(t, mode);
          const cls = value === undefined ? '' : binClass(compare ? 'reward' : mode, binOf(value, clamp));
          // Tokens outside the loss are muted in every mode.
          const classes = [cls, t.inLoss ? '' : 'pf-out-of-loss'].filter(Boolean).join(' ');
          const start = base + t.start;
          const end = base + Math.min(t.end, text.length);
          this.painted[side].push({ start, end, token: t, ...(o ? { other: o } : {}) });
          if (run && run.classes === classes && run.end === start) run.end = end;
          else {
            flush();
            run = { start, end, classes };
          }
        });
        flush();
      }
    }
    this.decorations.chosen.set(chosenDecos);
    this.decorations.rejected.set(rejectedDecos);
  }

  private hover(side: Side, e: monaco.editor.IEditorMouseEvent): void {
    const pos = e.target.position;
    const model = side === 'chosen' ? this.original : this.modified;
    if (!pos || this.painted[side].length === 0) {
      this.tooltip.hidden = true;
      return;
    }
    const offset = model.getOffsetAt(pos);
    const hit = this.painted[side].find((p) => p.start <= offset && offset < p.end);
    if (!hit) {
      this.tooltip.hidden = true;
      return;
    }
    const t = hit.token;
    const lines = [
      `${side} token ${JSON.stringify(t.text)}`,
      `log p policy ${t.logpPolicy.toFixed(4)} · reference ${t.logpRef.toFixed(4)}`,
      `difference ${(t.logpPolicy - t.logpRef).toFixed(4)} · × beta ${this.beta} = reward ${t.reward.toFixed(4)}`,
      t.inLoss ? 'in the loss' : 'not in the loss',
      ...(hit.other ? [`other run: reward ${hit.other.reward.toFixed(4)} (change ${(t.reward - hit.other.reward).toFixed(4)})`] : []),
      ...(t.top && t.top.length ? ['top alternatives:', ...t.top.map((a) => `  ${JSON.stringify(a.text)} ${a.logp.toFixed(4)}`)] : []),
    ];
    setChildren(this.tooltip, ...lines.map((l) => el('div', {}, l)));
    this.tooltip.hidden = false;
    const x = e.event.posx + 12;
    const y = e.event.posy + 12;
    this.tooltip.style.left = `${Math.min(x, window.innerWidth - this.tooltip.offsetWidth - 8)}px`;
    this.tooltip.style.top = `${Math.min(y, window.innerHeight - this.tooltip.offsetHeight - 8)}px`;
  }

  /** Edit mode: the chosen side becomes editable; the rest of the program stays as it was. */
  setEditing(on: boolean): void {
    this.editing = on;
    this.diff.updateOptions({ originalEditable: on });
    if (!on && this.pair && this.original.getValue() !== this.chosenText) this.original.setValue(this.chosenText);
    if (on) this.diff.getOriginalEditor().focus();
  }

  /** Whether the edited side has the keyboard. */
  editFocused(): boolean {
    return this.diff.getOriginalEditor().hasTextFocus();
  }

  focusEdit(): void {
    this.diff.getOriginalEditor().focus();
  }

  /** Takes the keyboard away from the edited side (the edit stays). */
  blurEdit(): void {
    const active = document.activeElement;
    if (active instanceof HTMLElement) active.blur();
  }

  /** The edited chosen side (the block of a FIM pair), or an error when the edit left the block. */
  editedChosen(): { text: string } | { error: string } {
    const pair = this.pair;
    if (!pair) return { error: 'no pair shown' };
    const all = this.original.getValue();
    if (!all.startsWith(pair.pre) || !all.endsWith(pair.suf) || all.length < pair.pre.length + pair.suf.length) {
      return { error: 'edit only the block: the muted code above and below it is shared by both sides' };
    }
    return { text: all.slice(pair.pre.length, all.length - pair.suf.length) };
  }

  setTheme(theme: 'vs' | 'vs-dark' | 'hc-black' | 'hc-light'): void {
    monaco.editor.setTheme(theme);
  }

  dispose(): void {
    this.diff.dispose();
    this.original.dispose();
    this.modified.dispose();
  }
}

/** The clamp of the shared scale of both sides in a mode. */
function clampOf(rewards: Rewards, compare: Rewards | undefined, mode: HeatmapMode): number {
  const values: number[] = [];
  for (const side of ['chosen', 'rejected'] as const) {
    rewards[side].tokens.forEach((t, i) => {
      if (compare) {
        const o = compare[side].tokens[i];
        if (o) values.push(t.reward - o.reward);
      } else {
        const v = tokenValue(t, mode);
        if (v !== undefined) values.push(v);
      }
    });
  }
  return clampFor(values);
}
