// Where tests find the repository and its committed fixtures, wherever the test file sits.
import path from 'node:path';

export const root = path.resolve(__dirname, '../..');

/** A path under test/fixtures/. */
export function fixturePath(...parts: string[]): string {
  return path.join(root, 'test', 'fixtures', ...parts);
}
