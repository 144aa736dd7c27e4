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

  it('leaves keys to text fields, modifiers to the editor, and letters to an edit in progress', () => {
    expect(actionOf({ key: 'a' }, { editing: false, typing: true })).toBeUndefined();
    expect(actionOf({ key: 'a', ctrlKey: true }, idle)).toBeUndefined();
    expect(actionOf({ key: 'a', altKey: true }, idle)).toBeUndefined();
    expect(actionOf({ key: 'a' }, { editing: true, typing: false })).toBeUndefined();
    expect(actionOf({ key: 's', ctrlKey: true }, { editing: true, typing: false })).toBe('save');
    expect(actionOf({ key: 'S', metaKey: true }, { editing: true, typing: false })).toBe('save');
    expect(actionOf({ key: 'Enter', ctrlKey: true }, { editing: true, typing: false })).toBe('runTests');
    expect(actionOf({ key: 'Escape' }, { editing: true, typing: true })).toBe('escape');
  });
});
