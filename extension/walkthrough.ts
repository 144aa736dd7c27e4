// The "Get started with PairForge" walkthrough's steps complete on what really happened: each
// milestone (extension/milestones.ts) sets its context key when the job it names finishes. VS Code
// remembers a completed step, so a key only needs to be set once per window.
import * as vscode from 'vscode';
import { MILESTONES, type Milestone } from './milestones';

const reachedOnce = new Set<Milestone>();

/** Records that `m` happened (sets its context key once). */
export function reached(m: Milestone): void {
  if (reachedOnce.has(m)) return;
  reachedOnce.add(m);
  void vscode.commands.executeCommand('setContext', MILESTONES[m], true);
}
