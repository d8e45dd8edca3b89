/** Most terms a keyword query keeps: beyond this a query is prose, and FTS5 cost grows with each OR. */
export const MAX_QUERY_TERMS = 32;

// The characters SQLite's unicode61 tokenizer keeps in a token (letters, numbers, private use),
// plus combining marks so that accented words stay whole.
const TERM = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;

/** Lower-cased words of a text, in order (duplicates kept). */
export function terms(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(TERM) ?? [];
}

/**
 * User text as a safe FTS5 query: every word quoted as its own phrase, ORed, so that no input can
 * be an FTS5 syntax error (operators, quotes, colons, NEAR, column filters are all just text), and a
 * chunk with more of the words ranks higher through bm25. Null when the text has no words.
 */
export function ftsMatchQuery(text: string): string | null {
  const unique = [...new Set(terms(text))].slice(0, MAX_QUERY_TERMS);
  if (unique.length === 0) return null;
  return unique.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
}

/** bm25 (FTS5: negative, lower is better) as a 0..1 score that does not depend on the other hits. */
export function bm25Score(rank: number): number {
  const s = Math.max(0, -rank);
  return s / (s + 1);
}
