/**
 * What people type into a search box, as an FTS5 query: each word must start a word of the given
 * columns (`"fox"*`), all words must match, and the row must belong to the user (its `owner`
 * column). Only letters and digits reach FTS5, so no input can change the query's structure.
 */

const NO_WORD = "0nothing0";
/** At most this many words count; the rest of a long query is ignored. */
const MAX_WORDS = 12;

/** The FTS5 `owner` token of a user: the id without punctuation (the tokenizer would split it). */
export const ownerToken = (userId: string): string => userId.replace(/[^A-Za-z0-9]/g, "").toLowerCase();

/** The words of a query: runs of letters and digits, NFKC-normalised. */
export const searchWords = (q: string): string[] =>
  (q.normalize("NFKC").match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_WORDS);

/**
 * An FTS5 MATCH expression, or null when there is no query (nothing is filtered). A query with no
 * words at all (only symbols) matches nothing.
 */
export function matchExpression(userId: string, q: string | undefined, columns: readonly string[]): string | null {
  if (!q) return null;
  const words = searchWords(q);
  // A word no row has: the owner token's column is not searched, so this never matches.
  const terms = words.length ? words.map((word) => `"${word}"*`).join(" AND ") : `"${NO_WORD}"`;
  return `owner : "${ownerToken(userId)}" AND {${columns.join(" ")}} : (${terms})`;
}
