// The "Get started with PairForge" walkthrough's steps complete on what really happened: each
// milestone (extension/milestones.ts) pulses its context key (true, then false again) when the job
// it names finishes, and the step waits for the key to become true.
//
// Why a pulse and not a key left set: VS Code's walkthroughs service starts lazily (when a
// walkthrough or the Welcome page is first shown). A step whose key is already true when the
// service starts is never completed in that window (the service notes the event as seen without
// completing the step, and ignores it from then on). A pulse leaves the key false, so every later
// milestone (the next health check, the next import) completes the step; VS Code remembers a
// completed step across windows.
import * as vscode from 'vscode';
import { MILESTONES, type Milestone } from './milestones';

/** Records that `m` happened. */
export function reached(m: Milestone): void {
  const key = MILESTONES[m];
  void vscode.commands.executeCommand('setContext', key, true).then(() => vscode.commands.executeCommand('setContext', key, false));
}
