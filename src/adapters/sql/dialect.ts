import type { Expression, Kysely, RawBuilder, SelectQueryBuilder, SqlBool } from "kysely";
import type { ExpandedWord, SearchTier } from "../../lexicon/search-expansion.js";
import type { Database } from "./schema.js";

/**
 * What a search looks for: every word (each as itself or, from tier 1, a synonym, from tier 2, a narrower
 * word; the last word also as a prefix). `onlyNew`: leave out what the tier before finds, so a page shows
 * each tier's photos once, exact matches first.
 */
export interface SearchMatch {
  words: readonly ExpandedWord[];
  tier: SearchTier;
  onlyNew: boolean;
}

/**
 * Up to this many matches (of a search or a date range), a page is best built from the matches,
 * sorted; beyond it, by walking the newest-first index and checking each row, which finds a page of a
 * common word within a few hundred rows. Dialects count (capped) and pick; planners guess wrong here.
 */
export const FEW_MATCHES = 2000;

/** What differs between the SQL stores; everything else is shared Kysely code. */
export interface SqlDialect {
  readonly name: "sqlite" | "postgres";
  /** The current time in epoch milliseconds, as SQL (the database clock where many machines share it). */
  nowMs(): RawBuilder<number>;
  /**
   * Restricts `images` to rows matching the search. Async so a dialect may look at how many rows match
   * before it picks the fastest form.
   */
  matchesSearch(search: SearchMatch): Promise<Expression<SqlBool>>;
  /**
   * Restricts `images` to capture times in [from, toExclusive) (UTC ISO text; either may be absent).
   * `byCaptureTime`: the rows are read in capture-time order, so the range should seek that index.
   */
  capturedBetween(
    from: string | null,
    toExclusive: string | null,
    byCaptureTime: boolean,
  ): Promise<Expression<SqlBool>>;
  /**
   * Restricts `images` to the photos of an album of chosen photos. Async so a dialect may look at the
   * album's size first: a large album is best paged by walking the ordered index, a small one from its rows.
   */
  inAlbum(albumId: string): Promise<Expression<SqlBool>>;
  /**
   * Runs `work` in one transaction that holds the write lock from its start (SQLite: BEGIN IMMEDIATE, so
   * a read followed by a write never fails because another process wrote in between).
   */
  writeTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /** PostgreSQL: claimers skip rows another claimer has locked, so many workers never wait on each other. */
  readonly skipLocked: boolean;
  /**
   * A search page's ids, newest added first, read from the full-text index in its own (insertion) order a
   * chunk at a time, so a common word never means sorting thousands of matches. `filtered` is the listing
   * with its other filters; `after` the last photo of the previous page. Null: use the generic plan.
   */
  searchPage?(
    filtered: SelectQueryBuilder<Database, "images", object>,
    search: SearchMatch,
    after: { id: string } | null,
    count: number,
  ): Promise<string[] | null>;
  /**
   * Of these words (single tokens), those the search index holds at all: a search leaves out the synonyms and
   * narrower words no photo uses, so "animal" asks for the few kinds of animal present, not 150 words.
   * Absent: every word is kept.
   */
  indexedWords?(words: readonly string[]): Promise<Set<string>>;
  isForeignKeyViolation(error: unknown): boolean;
}
