// The table rules of test/support/tables.ts, checked on every source file of server/ and test/,
// and on made-up files that break each rule (so the check itself is known to catch them).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../server/store/db';
import { root } from '../../support/paths';
import { stringLiterals, tableViolations, type SourceText } from '../../support/tables';

const STAGE_FOLDERS = new Set(readdirSync(path.join(root, 'server'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name));

function owners(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of MIGRATIONS) for (const [table, stage] of Object.entries(m.tables)) out.set(table, stage);
  return out;
}

function sources(): SourceText[] {
  const out: SourceText[] = [];
  for (const top of ['server', 'test']) {
    for (const f of readdirSync(path.join(root, top), { recursive: true, encoding: 'utf8' })) {
      if (!/\.(ts|mts)$/.test(f) || f.endsWith('.d.ts')) continue;
      const file = `${top}/${f.split(path.sep).join('/')}`;
      out.push({ file, text: readFileSync(path.join(root, file), 'utf8') });
    }
  }
  return out;
}

// Made-up SQL is assembled from parts so this file does not itself hold an INSERT literal.
const insert = (table: string) => ['INSERT', `INTO ${table} (x) VALUES (1)`].join(' ');

describe('tables', () => {
  it('every migration lists exactly the tables it creates, each owned by a folder of server/', () => {
    for (const m of MIGRATIONS) {
      const created = [...m.sql.matchAll(/CREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)/gi)].map((x) => x[1]).sort();
      expect(Object.keys(m.tables).sort(), m.name).toEqual(created);
      for (const stage of Object.values(m.tables)) expect(STAGE_FOLDERS.has(stage), `${m.name}: ${stage}`).toBe(true);
    }
  });

  it('are named only by their owner stage, and tests write rows only through the fixture builders', () => {
    const all = sources();
    expect(all.length).toBeGreaterThan(150);
    expect(tableViolations(all, owners())).toEqual([]);
  });

  it('the check catches each kind of violation', () => {
    const own = owners();
    const cases: [SourceText, RegExp | null][] = [
      [{ file: 'server/pairs/build.ts', text: "db.prepare('SELECT id FROM samples WHERE target_id = ?')" }, /pairs\/build\.ts: names the table samples, which belongs to server\/sampling\//],
      [{ file: 'server/pairs/build.ts', text: 'db.prepare(`SELECT p.id FROM pairs p JOIN ${x} t ON 1 JOIN targets t2 ON 1`)' }, /names the table targets/],
      [{ file: 'server/review/feature.ts', text: "db.prepare('UPDATE pairs SET status = ?')" }, /belongs to server\/pairs\//],
      [{ file: 'server/pairs/store.ts', text: "db.prepare('SELECT * FROM pairs')" }, null],
      [{ file: 'server/pairs/store.ts', text: '// comments may say FROM samples freely' }, null],
      [{ file: 'server/store/migrations/009_x.ts', text: "sql: 'CREATE TRIGGER t AFTER DELETE ON solutions BEGIN DELETE FROM executions; END'" }, null],
      [{ file: 'test/unit/pairs/x.test.ts', text: `db.prepare('${insert('pairs')}')` }, /x\.test\.ts: writes rows with INSERT/],
      [{ file: 'test/support/fixtures.ts', text: `db.prepare('${insert('pairs')}')` }, null],
      [{ file: 'test/unit/pairs/x.test.ts', text: "db.prepare('SELECT status FROM pairs')" }, null],
    ];
    for (const [src, why] of cases) {
      const v = tableViolations([src], own).join('\n');
      if (why) expect(v, src.text).toMatch(why);
      else expect(v, src.text).toBe('');
    }
    expect(stringLiterals('x.ts', 'f(`a ${b} c`, "d")')).toEqual(['a   c', 'd']);
  });
});
