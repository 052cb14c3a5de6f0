import type { Expression, RawBuilder, SqlBool } from "kysely";

/** What differs between the SQL stores; everything else is shared Kysely code. */
export interface SqlDialect {
  readonly name: "sqlite" | "postgres";
  /** The current time in epoch milliseconds, as SQL (the database clock where many machines share it). */
  nowMs(): RawBuilder<number>;
  /** Restricts `images` to rows matching every term (the last one as a prefix). Terms are plain words. */
  matchesSearch(terms: readonly string[]): Expression<SqlBool>;
  /** PostgreSQL: claimers skip rows another claimer has locked, so many workers never wait on each other. */
  readonly skipLocked: boolean;
  isForeignKeyViolation(error: unknown): boolean;
}
