// Who may name which table in SQL, as one pure check over source texts, so the table test can run
// it on the repository and on made-up files alike.
//
// - A table is named (after FROM, JOIN, INTO, UPDATE or TABLE in a string or template literal)
//   only in the stage folder its migration gives as owner (Migration.tables in server/store/db.ts);
//   other stages call that stage's functions or compose the SQL fragments it exports.
// - Migrations themselves are exempt: a schema change may reference earlier tables (foreign keys,
//   triggers).
// - Tests write rows only through test/support/fixtures.ts (no `INSERT INTO` anywhere else in test/).
import ts from 'typescript';

export interface SourceText {
  /** Repository-relative path, `/` separated. */
  file: string;
  text: string;
}

/** The text of every string and template literal of a TypeScript source (template parts joined
 * with a space where an expression stood). */
export function stringLiterals(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) out.push(n.text);
    else if (ts.isTemplateExpression(n)) out.push([n.head.text, ...n.templateSpans.map((s) => s.literal.text)].join(' '));
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const NAMED = /\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+([A-Za-z_][A-Za-z0-9_]*)/g;

/** Table names an SQL text reads or writes (only those in `known`). */
export function tablesNamed(sql: string, known: ReadonlyMap<string, string>): string[] {
  const out = new Set<string>();
  for (const m of sql.matchAll(NAMED)) if (known.has(m[1])) out.add(m[1]);
  return [...out];
}

function ownerFolder(file: string): string | null {
  const m = /^server\/([^/]+)\//.exec(file);
  return m ? m[1] : null;
}

/** Violations of the table rules, one line each ("file: ..."). `owners` maps table -> stage folder. */
export function tableViolations(sources: readonly SourceText[], owners: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const { file, text } of sources) {
    if (file.startsWith('server/store/migrations/')) continue;
    if (file.startsWith('server/')) {
      const folder = ownerFolder(file);
      const foreign = new Set<string>();
      for (const lit of stringLiterals(file, text)) {
        for (const t of tablesNamed(lit, owners)) if (owners.get(t) !== folder) foreign.add(t);
      }
      for (const t of [...foreign].sort()) out.push(`${file}: names the table ${t}, which belongs to server/${owners.get(t)}/ (call its queries instead)`);
    } else if (file.startsWith('test/') && file !== 'test/support/fixtures.ts') {
      for (const lit of stringLiterals(file, text)) {
        if (/\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b/i.test(lit)) {
          out.push(`${file}: writes rows with INSERT (use the builders of test/support/fixtures.ts)`);
          break;
        }
      }
    }
  }
  return out;
}
