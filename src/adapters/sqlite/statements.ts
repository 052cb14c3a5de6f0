import type BetterSqlite3 from "better-sqlite3";
import type { SqliteDatabase, SqliteStatement } from "kysely";

/** Statements kept at most: the stores' queries take a few hundred shapes ("in" lists vary in length). */
export const KEPT_STATEMENTS = 500;

type Row = Record<string, unknown>;

/** A statement as Kysely runs it, with its rows made from arrays. */
function keptStatement(statement: BetterSqlite3.Statement): SqliteStatement {
  if (!statement.reader) {
    return {
      reader: false,
      all: (parameters) => statement.all(parameters),
      run: (parameters) => statement.run(parameters),
      iterate: (parameters) => statement.iterate(parameters),
    };
  }
  // Read once the statement has run: a statement prepared before another connection changed the schema
  // is prepared again by SQLite when it runs, and only then names the new columns.
  let names: string[] | null = null;
  const toRows = (rows: unknown[][]): Row[] => {
    names ??= statement.columns().map((c) => c.name);
    const columns = names;
    return rows.map((values) => {
      // Later columns of the same name win, as in better-sqlite3's own objects.
      const row: Row = {};
      for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i];
      return row;
    });
  };
  statement.raw(true);
  return {
    reader: true,
    all: (parameters) => toRows(statement.all(parameters) as unknown[][]),
    run: (parameters) => statement.run(parameters),
    // A stream holds its statement until it ends: its own statement, so a kept one is never busy.
    iterate: (parameters) => statement.database.prepare(statement.source).iterate(parameters),
  };
}

/**
 * The database as Kysely's SQLite driver uses it, made cheaper for many small reads. The driver prepares
 * every query anew, and better-sqlite3's row objects of fifty columns cost more than reading the rows: here
 * each SQL text is prepared once (the most recently used KEPT_STATEMENTS are kept) and rows are read as
 * arrays, then made objects by one loop over the statement's column names, about twice as fast for a page
 * of photos. A schema change (a migration, by any connection) forgets every kept statement, as the columns
 * of its rows may differ.
 */
export function keptStatements(database: BetterSqlite3.Database): SqliteDatabase {
  const kept = new Map<string, SqliteStatement>();
  const schemaVersionOf = database.prepare("pragma schema_version").pluck();
  let schemaVersion: unknown = null;
  return {
    close: () => database.close(),
    prepare(sql) {
      const version = schemaVersionOf.get();
      if (version !== schemaVersion) {
        kept.clear();
        schemaVersion = version;
      }
      let statement = kept.get(sql);
      if (statement) {
        // Most recently used last: the first is the one to forget.
        kept.delete(sql);
      } else {
        statement = keptStatement(database.prepare(sql));
        if (kept.size >= KEPT_STATEMENTS) kept.delete(kept.keys().next().value as string);
      }
      kept.set(sql, statement);
      return statement;
    },
  };
}
