// The review room's keyboard map: which key does what, and when keys are text instead.
import { describe, expect, it } from 'vitest';
import { actionOf, KEYMAP } from '../../../webview/review/keys';

describe('review room keys', () => {
  const idle = { editing: false, typing: false };

  it('maps each letter of the help overlay to its action', () => {
    expect(KEYMAP.map((k) => [k.key, actionOf({ key: k.key }, idle)])).toEqual([
      ['a', 'accept'],
      ['r', 'reject'],
      ['f', 'flag'],
      ['s', 'skip'],
      ['u', 'undo'],
      ['j', 'next'],
      ['k', 'previous'],
      ['n', 'nextPending'],
      ['e', 'edit'],
      ['t', 'runTests'],
      ['h', 'heatmap'],
      ['/', 'search'],
      ['?', 'help'],
    ]);
    expect(actionOf({ key: 'x' }, idle)).toBeUndefined();
    expect(actionOf({ key: 'A' }, idle)).toBeUndefined();
  });

  it('leaves letters to text fields and the side being edited; Escape, Ctrl+S and Ctrl+Enter reach the room', () => {
    expect(actionOf({ key: 'a' }, { editing: false, typing: true })).toBeUndefined();
    expect(actionOf({ key: 'a', ctrlKey: true }, idle)).toBeUndefined();
    expect(actionOf({ key: 'a', altKey: true }, idle)).toBeUndefined();
    // In the edited side, letters are code.
    expect(actionOf({ key: 't' }, { editing: true, typing: true })).toBeUndefined();
    expect(actionOf({ key: 's', ctrlKey: true }, { editing: true, typing: true })).toBe('save');
    expect(actionOf({ key: 'S', metaKey: true }, { editing: true, typing: false })).toBe('save');
    expect(actionOf({ key: 'Enter', ctrlKey: true }, { editing: true, typing: true })).toBe('runTests');
    expect(actionOf({ key: 'Escape' }, { editing: true, typing: true })).toBe('escape');
    // Out of the editor with an edit pending: t runs its tests, e goes back into it.
    expect(actionOf({ key: 't' }, { editing: true, typing: false })).toBe('runTests');
    expect(actionOf({ key: 'e' }, { editing: true, typing: false })).toBe('edit');
    // Ctrl+S without an edit is the browser's, not the room's.
    expect(actionOf({ key: 's', ctrlKey: true }, idle)).toBeUndefined();
  });
});
