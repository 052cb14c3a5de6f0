import { mkdirSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, type Migration, type SqlBool, SqliteDialect, sql } from "kysely";
import { PhotocatError } from "../../domain/errors.js";
import type { SearchExpander } from "../../lexicon/search-expansion.js";
import { type Logger, silentLogger } from "../../logger.js";
import type { VectorIndex } from "../../ports/vector-index.js";
import { createSqlCatalog } from "../sql/catalog.js";
import { FEW_MATCHES, type SearchMatch, type SqlDialect } from "../sql/dialect.js";
import { createSqlJobQueue } from "../sql/job-queue.js";
import { afterReady, type SqlStore, sharedCloser } from "../sql/lifecycle.js";
import {
  addAlbums,
  addEmbeddingChanges,
  addEmbeddingCosts,
  addHealthProbes,
  addOwnWords,
  addPerceptualHashes,
  addTrash,
  coverCaptureTime,
  createCoreTables,
  createSessionsTable,
  migrate,
  typedJobs,
} from "../sql/migrations.js";
import { type SearchAlternative, searchGroups } from "../sql/query.js";
import type { Database } from "../sql/schema.js";
import { keptStatements } from "./statements.js";
import { createSqliteVectorIndex } from "./vector-index.js";

export type { SqlStore };

// What the search index held at first: the effective (edited or analysed) description, visible text and file name.
const FTS_VALUES_0001 = (row: "new" | "old") =>
  `${row}.seq, coalesce(${row}.edit_summary, ${row}.summary), coalesce(${row}.edit_tags, ${row}.tags),
   coalesce(${row}.edit_category, ${row}.category), ${row}.text, ${row}.original_name`;

// Since 0010, also the words the photo came with: its own title and description beside the summary, its own
// keywords beside the tags. Rows written before have none, so the index needs no rebuild.
const FTS_VALUES = (row: "new" | "old") =>
  `${row}.seq,
   coalesce(${row}.edit_summary, ${row}.summary, '') || ' ' || coalesce(${row}.own_title, '') || ' ' ||
     coalesce(${row}.own_description, ''),
   coalesce(${row}.edit_tags, ${row}.tags, '') || ' ' || coalesce(${row}.own_keywords, ''),
   coalesce(${row}.edit_category, ${row}.category), ${row}.text, ${row}.original_name`;

async function createFtsWriteTriggers(db: Kysely<unknown>, values: typeof FTS_VALUES, watched: string) {
  await sql
    .raw(`create trigger images_fts_insert after insert on images begin
      insert into images_fts(rowid, summary, tags, category, text, name) values (${values("new")});
    end`)
    .execute(db);
  await sql
    .raw(`create trigger images_fts_update after update of ${watched} on images begin
      delete from images_fts where rowid = old.seq;
      insert into images_fts(rowid, summary, tags, category, text, name) values (${values("new")});
    end`)
    .execute(db);
}

/** Exported for migration tests (they build an older schema from a prefix of this list). */
export const migrations: Record<string, Migration> = {
  "0001_initial": {
    async up(db) {
      await createCoreTables(db, "sqlite");
      // Contentless: the words live only in the index; triggers keep it in step with every write.
      await sql`create virtual table images_fts using fts5(
        summary, tags, category, text, name,
        content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
      )`.execute(db);
      await createFtsWriteTriggers(
        db,
        FTS_VALUES_0001,
        "summary, tags, category, text, original_name, edit_summary, edit_tags, edit_category",
      );
      await sql
        .raw(`create trigger images_fts_delete after delete on images begin
          delete from images_fts where rowid = old.seq;
        end`)
        .execute(db);
    },
  },
  "0002_created_index_covers_capture_time": { up: (db) => coverCaptureTime(db) },
  "0003_typed_jobs": { up: (db) => typedJobs(db, "sqlite") },
  "0004_trash": { up: (db) => addTrash(db) },
  "0005_health_probes": { up: (db) => addHealthProbes(db) },
  "0006_sessions": { up: (db) => createSessionsTable(db, "sqlite") },
  "0007_albums": { up: (db) => addAlbums(db, "sqlite") },
  "0009_perceptual_hash": { up: (db) => addPerceptualHashes(db, "sqlite") },
  "0010_embedded_metadata": {
    async up(db) {
      await addOwnWords(db);
      await sql`drop trigger images_fts_insert`.execute(db);
      await sql`drop trigger images_fts_update`.execute(db);
      await createFtsWriteTriggers(
        db,
        FTS_VALUES,
        `summary, tags, category, text, original_name, edit_summary, edit_tags, edit_category,
         own_title, own_description, own_keywords`,
      );
    },
  },
  "0011_embedding_changes": { up: (db) => addEmbeddingChanges(db, "sqlite") },
  "0012_embedding_costs": { up: (db) => addEmbeddingCosts(db, "sqlite") },
  // sqlite-vec's sketches of the embeddings, now kept in memory (vector-index.ts): the table went stale.
  "0013_drop_embedding_bits": {
    async up(db) {
      await sql`drop table if exists embedding_bits`.execute(db);
    },
  },
};

/** Words remembered as in the search index or not, at most (then all are asked again). */
const MAX_KNOWN_TERMS = 50_000;

/** Albums larger than this are paged by walking the ordered index (see inAlbum). */
const ALBUM_WALK_FROM = 300;

/** FTS5 syntax for a search: each word or phrase quoted, alternatives OR-ed, every word required. */
export function ftsQuery(search: SearchMatch): string {
  const render = (groups: SearchAlternative[][]) =>
    groups
      .map(
        (group) =>
          `(${group.map((a) => `"${a.tokens.join(" ").replaceAll('"', '""')}"${a.prefix ? "*" : ""}`).join(" OR ")})`,
      )
      .join(" AND ");
  const { include, exclude } = searchGroups(search);
  return exclude ? `(${render(include)}) NOT (${render(exclude)})` : render(include);
}

function createSqliteDialect(database: BetterSqlite3.Database, db: Kysely<Database>): SqlDialect {
  // Prepared on first use: the table exists only once migrations have run.
  let countMatches: BetterSqlite3.Statement<[string, number], { n: number }> | undefined;
  let countInRange: BetterSqlite3.Statement<[string, string, number], { n: number }> | undefined;
  let seqOf: BetterSqlite3.Statement<[string], { seq: number }> | undefined;
  let matchesBelow: BetterSqlite3.Statement<[string, number, number], number> | undefined;
  let countInAlbum: BetterSqlite3.Statement<[string, number], { n: number }> | undefined;
  let indexedTerm: BetterSqlite3.Statement<[string], number> | undefined;
  // Which words the search index holds, as last asked. A word found is kept (a photo deleted since leaves at
  // worst a word that matches nothing); words not found are asked again once anything has been written.
  const presentTerms = new Set<string>();
  const absentTerms = new Set<string>();
  let indexVersion = "";
  const dataVersionOf = database.prepare("pragma data_version").pluck();
  const totalChangesOf = database.prepare("select total_changes()").pluck();
  /** Changes whenever another connection commits to the file. */
  const dataVersion = () => dataVersionOf.get() as number;
  /** Changes whenever this connection writes. */
  const totalChanges = () => totalChangesOf.get() as number;
  return {
    name: "sqlite",
    // One machine shares a SQLite file, so its clock is the database clock.
    nowMs: () => sql<number>`${Date.now()}`,
    matchesSearch: async (search) => {
      const query = ftsQuery(search);
      countMatches ??= database.prepare(
        "select count(*) as n from (select rowid from images_fts where images_fts match ? limit ?)",
      );
      const matches = countMatches.get(query, FEW_MATCHES + 1)?.n ?? 0;
      // A unary + keeps SQLite from driving the query by seq, so it walks the newest-first index.
      const seq = matches > FEW_MATCHES ? sql`+"images"."seq"` : sql`"images"."seq"`;
      return sql<SqlBool>`${seq} in (select rowid from images_fts where images_fts match ${query})`;
    },
    capturedBetween: async (from, to, byCaptureTime) => {
      const lower = from ?? "";
      const upper = to ?? "~"; // After every ISO time.
      if (byCaptureTime)
        return sql<SqlBool>`"images"."captured_at" >= ${lower} and "images"."captured_at" < ${upper}`;
      countInRange ??= database.prepare(
        "select count(*) as n from (select 1 from images where captured_at >= ? and captured_at < ? limit ?)",
      );
      const rows = countInRange.get(lower, upper, FEW_MATCHES + 1)?.n ?? 0;
      // Many rows in range: walk the newest-first index (it holds captured_at) instead of sorting them.
      const column = rows > FEW_MATCHES ? sql`+"images"."captured_at"` : sql`"images"."captured_at"`;
      return sql<SqlBool>`${column} >= ${lower} and ${column} < ${upper}`;
    },
    inAlbum: async (albumId) => {
      countInAlbum ??= database.prepare(
        "select count(*) as n from (select 1 from album_images where album_id = ? limit ?)",
      );
      const members = countInAlbum.get(albumId, ALBUM_WALK_FROM + 1)?.n ?? 0;
      // A unary + keeps SQLite from reading a large album's photos one by one and sorting them all: it walks
      // the ordered index instead, where a page of an album of n photos in N takes about 50 N / n steps.
      const id = members > ALBUM_WALK_FROM ? sql`+"images"."id"` : sql`"images"."id"`;
      return sql<SqlBool>`${id} in (select image_id from album_images where album_id = ${albumId})`;
    },
    skipLocked: false,
    // One connection: other queries of this process wait for it; other processes wait on busy_timeout.
    writeTransaction: (work) =>
      db.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        try {
          const result = await work(connection);
          await sql`commit`.execute(connection);
          return result;
        } catch (error) {
          await sql`rollback`.execute(connection).catch(() => {});
          throw error;
        }
      }),
    // The index keeps each photo's words under its seq, which grows with every photo added: reading matches
    // by descending rowid is reading them newest added first, a chunk at a time, with no sort of them all.
    searchPage: async (filtered, search, after, count) => {
      const query = ftsQuery(search);
      let below = Number.MAX_SAFE_INTEGER;
      if (after) {
        seqOf ??= database.prepare("select seq from images where id = ?");
        const row = seqOf.get(after.id);
        if (!row) return null; // The previous page's last photo is gone: the generic plan still pages right.
        below = row.seq;
      }
      matchesBelow ??= database.prepare(
        "select rowid from images_fts where images_fts match ? and rowid < ? order by rowid desc limit ?",
      );
      const ids: string[] = [];
      for (let chunk = 4 * count; ids.length < count; chunk = Math.min(chunk * 4, 65_536)) {
        const seqs = matchesBelow.pluck().all(query, below, chunk) as number[];
        if (seqs.length === 0) break;
        const rows = await filtered
          .select("id")
          .where(sql<SqlBool>`seq in (select value from json_each(${JSON.stringify(seqs)}))`)
          .orderBy(sql`seq`, "desc")
          .limit(count - ids.length)
          .execute();
        ids.push(...rows.map((r) => r.id));
        if (seqs.length < chunk) break;
        below = seqs.at(-1)!;
      }
      return ids;
    },
    indexedWords: async (words) => {
      indexedTerm ??= database
        .prepare<[string], number>("select 1 from images_fts where images_fts match ? limit 1")
        .pluck();
      // Anything written since the last search (by this connection or another process) may add words.
      const version = `${dataVersion()}:${totalChanges()}`;
      if (version !== indexVersion) {
        indexVersion = version;
        absentTerms.clear();
      }
      if (presentTerms.size + absentTerms.size > MAX_KNOWN_TERMS) {
        presentTerms.clear();
        absentTerms.clear();
      }
      const found = new Set<string>();
      for (const word of words) {
        if (presentTerms.has(word)) found.add(word);
        if (presentTerms.has(word) || absentTerms.has(word)) continue;
        // One quoted token: the index folds it as it folded the photos' words (remove_diacritics 2).
        const present = indexedTerm.get(`"${word.replaceAll('"', '""')}"`) !== undefined;
        (present ? presentTerms : absentTerms).add(word);
        if (present) found.add(word);
      }
      return found;
    },
    isForeignKeyViolation: (error) =>
      error instanceof Error && (error as { code?: unknown }).code === "SQLITE_CONSTRAINT_FOREIGNKEY",
  };
}

/**
 * Kysely's SQLite migrator takes no lock, so processes opening a new file together would race: hold the
 * write lock for the whole migration. Waits without blocking the thread, as another store of this same
 * process may be the holder.
 */
async function migrateLocked(database: BetterSqlite3.Database, run: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 60_000;
  const busyTimeout = database.pragma("busy_timeout", { simple: true });
  database.pragma("busy_timeout = 0");
  try {
    for (;;) {
      try {
        database.exec("begin immediate");
        break;
      } catch (error) {
        if ((error as { code?: unknown }).code !== "SQLITE_BUSY" || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  } finally {
    database.pragma(`busy_timeout = ${Number(busyTimeout)}`);
  }
  try {
    await run();
    database.exec("commit");
  } catch (error) {
    if (database.inTransaction) database.exec("rollback");
    throw error;
  }
}

/**
 * The catalogue and the job queue in one SQLite file (or ":memory:"). Several processes on one machine
 * may open the same file: WAL lets readers run beside the writer, busy_timeout makes writers wait.
 * Opening is synchronous; migrations run at once and every call waits for them (await `ready` to fail fast).
 */
export function openSqliteStore(options: {
  path: string;
  logger?: Logger;
  /** How search words are widened (default: WordNet's synonyms and narrower words). */
  expander?: () => Promise<SearchExpander>;
}): SqlStore & {
  ready: Promise<void>;
  /** sqlite-vec's search over the stored vectors; null when the extension cannot load here. */
  vectors: VectorIndex | null;
} {
  if (!options.path) throw new PhotocatError("configuration", "[catalog:sqlite] missing option path");
  const logger = options.logger ?? silentLogger();
  const inMemory = options.path === ":memory:";
  let database: BetterSqlite3.Database;
  try {
    if (!inMemory) mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
    database = new BetterSqlite3(options.path);
    if (!inMemory) database.pragma("journal_mode = WAL");
    database.pragma("busy_timeout = 5000");
    database.pragma("foreign_keys = ON");
    database.pragma("synchronous = NORMAL");
  } catch (error) {
    throw new PhotocatError(
      "configuration",
      `[catalog:sqlite] cannot open database ${options.path}: ${String(error)}`,
      { cause: error },
    );
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: keptStatements(database) }) });
  const ready = migrateLocked(database, () =>
    migrate(db as unknown as Kysely<unknown>, migrations, logger, "[catalog:sqlite]"),
  );
  ready.catch(() => {}); // Reported by every call (and by `ready` to whoever awaits it).
  const sqliteDialect = createSqliteDialect(database, db);
  const closer = sharedCloser(2, async () => {
    await ready.catch(() => {});
    await db.destroy();
  });
  return {
    catalog: afterReady(
      createSqlCatalog(db, sqliteDialect, { kind: "sqlite", close: closer.part, expander: options.expander }),
      ready,
    ),
    queue: afterReady(createSqlJobQueue(db, sqliteDialect, { kind: "sqlite", close: closer.part }), ready),
    close: closer.all,
    ready,
    vectors: createSqliteVectorIndex(database, ready, logger),
  };
}
