// The review room's keyboard map (shown by the `?` overlay). Pure: a key event's description in,
// an action out, so it is tested without a browser.

export type Action =
  | 'accept'
  | 'reject'
  | 'flag'
  | 'skip'
  | 'undo'
  | 'next'
  | 'previous'
  | 'nextPending'
  | 'edit'
  | 'runTests'
  | 'heatmap'
  | 'search'
  | 'help'
  | 'escape'
  | 'save';

export interface KeyInfo {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

/** The keys, as the help overlay lists them. */
export const KEYMAP: readonly { key: string; action: Action; label: string }[] = [
  { key: 'a', action: 'accept', label: 'accept the pair' },
  { key: 'r', action: 'reject', label: 'reject the pair' },
  { key: 'f', action: 'flag', label: 'flag it (asks for a note)' },
  { key: 's', action: 'skip', label: 'skip to the next pair' },
  { key: 'u', action: 'undo', label: 'undo the last decision or edit' },
  { key: 'j', action: 'next', label: 'next pair' },
  { key: 'k', action: 'previous', label: 'previous pair' },
  { key: 'n', action: 'nextPending', label: 'next pending pair' },
  { key: 'e', action: 'edit', label: 'edit the chosen side (Esc leaves the editor, Ctrl+S saves)' },
  { key: 't', action: 'runTests', label: 'run the tests of the edited side (also Ctrl+Enter)' },
  { key: 'h', action: 'heatmap', label: 'next heatmap mode' },
  { key: '/', action: 'search', label: 'search the queue' },
  { key: '?', action: 'help', label: 'show these keys' },
];

/**
 * The action of a key press. `typing`: focus is in a text field (the search box, the note, or the
 * chosen side while it is being edited): letters are text there, and only Escape, Ctrl/Cmd+S and
 * Ctrl/Cmd+Enter reach the room. `editing`: an edit of the chosen side is in progress (the room
 * refuses to move on until it is saved or cancelled).
 */
export function actionOf(e: KeyInfo, ctx: { editing: boolean; typing: boolean }): Action | undefined {
  const mod = e.ctrlKey === true || e.metaKey === true;
  if (e.key === 'Escape') return 'escape';
  if (ctx.editing && mod && e.key.toLowerCase() === 's') return 'save';
  if (ctx.editing && mod && e.key === 'Enter') return 'runTests';
  if (ctx.typing || mod || e.altKey) return undefined;
  return KEYMAP.find((k) => k.key === e.key)?.action;
}
