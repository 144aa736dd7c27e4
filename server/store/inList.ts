// Lookups by many ids: SQLite binds at most 32,766 parameters per statement, and a long `IN (...)`
// list is parsed anew each time, so every stage's "these ids" query goes through inChunks.

/** Parameters per `IN (...)` list. */
export const IN_CHUNK = 500;

/** Runs `each` over the distinct `ids` in slices of IN_CHUNK, with the slice's `?,?,...` list. */
export function inChunks<T>(ids: readonly T[], each: (slice: T[], placeholders: string) => void): void {
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += IN_CHUNK) {
    const slice = unique.slice(i, i + IN_CHUNK);
    each(slice, slice.map(() => '?').join(','));
  }
}
