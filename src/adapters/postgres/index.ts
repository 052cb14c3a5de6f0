import { Kysely, type Migration, PostgresDialect, type SqlBool, sql } from "kysely";
import pg from "pg";
import { PhotocatError } from "../../domain/errors.js";
import { type Logger, silentLogger } from "../../logger.js";
import type { VectorIndex } from "../../ports/vector-index.js";
import { createSqlCatalog } from "../sql/catalog.js";
import { FEW_MATCHES, type SearchMatch, type SqlDialect } from "../sql/dialect.js";
import { createSqlJobQueue } from "../sql/job-queue.js";
import { type SqlStore, sharedCloser } from "../sql/lifecycle.js";
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
import { openPgvectorIndex } from "./pgvector.js";

/** The first search document: the effective description, visible text and file name, punctuation as spaces. */
const SEARCH_DOCUMENT_0001 = sql`to_tsvector('simple', regexp_replace(
  coalesce(edit_summary, summary, '') || ' ' || coalesce(edit_tags, tags, '') || ' ' ||
  coalesce(edit_category, category, '') || ' ' || coalesce(text, '') || ' ' || original_name,
  '[[:punct:]]+', ' ', 'g'))`;

/** Since 0010, also the words the photo came with: its own title, description and keywords. */
const SEARCH_DOCUMENT = sql`to_tsvector('simple', regexp_replace(
  coalesce(edit_summary, summary, '') || ' ' || coalesce(edit_tags, tags, '') || ' ' ||
  coalesce(edit_category, category, '') || ' ' || coalesce(text, '') || ' ' || original_name || ' ' ||
  coalesce(own_title, '') || ' ' || coalesce(own_description, '') || ' ' || coalesce(own_keywords, ''),
  '[[:punct:]]+', ' ', 'g'))`;

async function addSearchColumn(db: Kysely<unknown>, document: typeof SEARCH_DOCUMENT): Promise<void> {
  await db.schema
    .alterTable("images")
    .addColumn("search", sql`tsvector`, (c) => c.generatedAlwaysAs(document).stored().notNull())
    .execute();
  await db.schema.createIndex("images_search").on("images").using("gin").column("search").execute();
}

/** Exported for migration tests (they build an older schema from a prefix of this list). */
export const migrations: Record<string, Migration> = {
  "0001_initial": {
    async up(db) {
      await createCoreTables(db, "postgres");
      await addSearchColumn(db, SEARCH_DOCUMENT_0001);
    },
  },
  "0002_created_index_covers_capture_time": { up: (db) => coverCaptureTime(db) },
  "0003_typed_jobs": { up: (db) => typedJobs(db, "postgres") },
  "0004_trash": { up: (db) => addTrash(db) },
  "0005_health_probes": { up: (db) => addHealthProbes(db) },
  "0006_sessions": { up: (db) => createSessionsTable(db, "postgres") },
  "0007_albums": { up: (db) => addAlbums(db, "postgres") },
  "0009_perceptual_hash": { up: (db) => addPerceptualHashes(db, "postgres") },
  "0010_embedded_metadata": {
    async up(db) {
      await addOwnWords(db);
      // A generated column's expression cannot be altered: it is dropped (with its index) and added anew.
      await db.schema.alterTable("images").dropColumn("search").execute();
      await addSearchColumn(db, SEARCH_DOCUMENT);
    },
  },
  "0011_embedding_changes": { up: (db) => addEmbeddingChanges(db, "postgres") },
  "0012_embedding_costs": { up: (db) => addEmbeddingCosts(db, "postgres") },
};

/** tsquery syntax for a search: each word quoted, phrases with <->, alternatives OR-ed, every word required. */
export function tsQuery(search: SearchMatch): string {
  const render = (groups: SearchAlternative[][]) =>
    groups
      .map(
        (group) =>
          `(${group
            .map(
              (a) =>
                a.tokens.map((t) => `'${t.replaceAll("'", "''")}'`).join(" <-> ") + (a.prefix ? ":*" : ""),
            )
            .join(" | ")})`,
      )
      .join(" & ");
  const { include, exclude } = searchGroups(search);
  return exclude ? `(${render(include)}) & !(${render(exclude)})` : render(include);
}

function createPostgresDialect(db: Kysely<Database>): SqlDialect {
  return {
    name: "postgres",
    // The database clock: workers on many machines agree on when a lease runs out.
    nowMs: () => sql<number>`(extract(epoch from statement_timestamp()) * 1000)::bigint`,
    matchesSearch: async (search) => {
      const query = sql`to_tsquery('simple', ${tsQuery(search)})`;
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from (
        select 1 from images where search @@ ${query} limit ${FEW_MATCHES + 1}) as capped`.execute(db);
      if ((rows[0]?.n ?? 0) > FEW_MATCHES) return sql<SqlBool>`"images"."search" @@ ${query}`;
      // Few matches: the planner would still walk the newest-first index hoping to fill the page soon,
      // reading every row for a rare word. OFFSET 0 makes it take the matches from the GIN index first.
      return sql<SqlBool>`"images"."id" in (select "id" from images where search @@ ${query} offset 0)`;
    },
    capturedBetween: async (from, to) =>
      sql<SqlBool>`"images"."captured_at" >= ${from ?? ""} and "images"."captured_at" < ${to ?? "~"}`,
    inAlbum: async (albumId) =>
      sql<SqlBool>`"images"."id" in (select image_id from album_images where album_id = ${albumId})`,
    skipLocked: true,
    writeTransaction: (work) => db.transaction().execute(work),
    isForeignKeyViolation: (error) => (error as { code?: unknown }).code === "23503",
  };
}

const INT8_OID = 20;

/** Where to connect, without the password: safe for error messages and logs. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

/**
 * The catalogue and the job queue on PostgreSQL, for many API and worker processes on many machines.
 * `schema` (optional) keeps Photocat's tables in their own schema, created when missing.
 */
export async function openPostgresStore(options: {
  url: string;
  logger?: Logger;
  schema?: string;
  poolSize?: number;
}): Promise<SqlStore & { vectors: VectorIndex | null }> {
  if (!options.url) throw new PhotocatError("configuration", "[catalog:postgres] missing option url");
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/i.test(schema)) {
    throw new PhotocatError("configuration", "[catalog:postgres] schema must be a plain SQL name");
  }
  const logger = options.logger ?? silentLogger();
  const where = describeUrl(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    // Counts and epoch milliseconds are int8: safe as numbers, and easier to use.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID && format !== "binary"
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on("error", (error) => logger.warn({ err: error }, "[catalog:postgres] idle connection failed"));

  try {
    if (schema) await pool.query(`create schema if not exists "${schema}"`);
    else await pool.query("select 1");
  } catch (error) {
    await pool.end().catch(() => {});
    throw new PhotocatError(
      "configuration",
      `[catalog:postgres] cannot connect to ${where}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }

  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrate(
      db as unknown as Kysely<unknown>,
      migrations,
      logger,
      "[catalog:postgres]",
      schema ?? "public",
    );
  } catch (error) {
    await db.destroy().catch(() => {});
    throw error;
  }
  const postgresDialect = createPostgresDialect(db);
  const closer = sharedCloser(2, () => db.destroy());
  const catalog = createSqlCatalog(db, postgresDialect, { kind: "postgres", close: closer.part });
  return {
    catalog,
    queue: createSqlJobQueue(db, postgresDialect, { kind: "postgres", close: closer.part }),
    close: closer.all,
    vectors: await openPgvectorIndex(pool, catalog, logger),
  };
}
