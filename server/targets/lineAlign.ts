// Maps the lines of a target's cut code onto the lines of the document it was cut from. Targets
// are stored with line numbers in the *cut* code (for `structurecoder`: after `.strip()` and the
// published comment removal), which differs from the stored solution wherever comment lines were
// dropped, inline comments cut or leading blank lines stripped. Pure.

/** A comment-only line (`#` after optional whitespace). */
function isCommentLine(line: string): boolean {
  return line.trimStart().startsWith('#');
}

/** The forms under which a document line may appear in the cut code: as is, or cut at its first
 * `#` (the published quirk, even inside a string), both compared trimmed. */
function docForms(line: string): string[] {
  const t = line.trim();
  const hash = line.indexOf('#');
  return hash < 0 ? [t] : [t, line.slice(0, hash).trim()];
}

/**
 * For each line of `cut`, the 0-based line of `doc` it came from, or undefined when it cannot be
 * found. Lines are matched in order (the cut only ever drops or shortens lines); a comment-only
 * document line only matches an identical cut line (a preset that keeps comments), so a dropped
 * comment never takes the place of a blank line.
 */
export function alignCutLines(doc: string, cut: string): (number | undefined)[] {
  const docLines = doc.split('\n').map((l) => l.replace(/\r$/, ''));
  const cutLines = cut.split('\n');
  const out: (number | undefined)[] = [];
  let j = 0;
  for (const cutLine of cutLines) {
    const want = cutLine.trim();
    let found: number | undefined;
    for (let k = j; k < docLines.length; k++) {
      const line = docLines[k];
      const ok = isCommentLine(line) ? line.trim() === want : docForms(line).includes(want);
      if (ok) {
        found = k;
        break;
      }
      // Only blank lines (the leading ones `.strip()` removes) and comment lines are ever dropped;
      // a different code line means this cut line is not in the document (e.g. Black reformatted
      // it): give up on it and keep the position.
      if (line.trim() !== '' && !isCommentLine(line)) break;
    }
    out.push(found);
    if (found !== undefined) {
      j = found + 1;
    } else if (want !== '') {
      // Assume the next code line of the document is this cut line, changed: step over it so the
      // following lines can still be found.
      while (j < docLines.length && (docLines[j].trim() === '' || isCommentLine(docLines[j]))) j++;
      j++;
    }
  }
  return out;
}

/** The code a target's lines refer to, rebuilt from the target itself: `pre + mid + suf`, minus
 * the `structurecoder` quirk of a lone "\n" prefix for a block on the first line. */
export function cutCodeOf(t: { pre: string; mid: string; suf: string; start_line: number }): string {
  const pre = t.start_line === 0 && t.pre === '\n' ? '' : t.pre;
  return pre + t.mid + t.suf;
}
