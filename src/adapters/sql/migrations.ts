import { type Kysely, type Migration, Migrator, sql } from "kysely";
import { PhotocatError } from "../../domain/errors.js";
import type { Logger } from "../../logger.js";

// Migrations take `Kysely<unknown>`: they must not depend on today's table types.
type AnyDb = Kysely<unknown>;

/** The tables both dialects share; each dialect's first migration adds its search index around this. */
export async function createCoreTables(db: AnyDb, dialect: "sqlite" | "postgres"): Promise<void> {
  const pg = dialect === "postgres";
  // PostgreSQL compares text by locale unless told otherwise; sort keys must compare bytewise.
  const key = pg ? sql`text collate "C"` : sql`text`;
  const real = pg ? sql`double precision` : sql`real`;
  const big = pg ? sql`bigint` : sql`integer`;
  const bytes = pg ? sql`bytea` : sql`blob`;

  await db.schema
    .createTable("images")
    .$call((t) =>
      pg
        ? t.addColumn("id", key, (c) => c.primaryKey())
        : t
            // A stable integer key for the FTS5 index (a table's implicit rowid may change on VACUUM).
            .addColumn("seq", "integer", (c) => c.primaryKey().autoIncrement())
            .addColumn("id", key, (c) => c.notNull().unique()),
    )
    .addColumn("sha256", "text", (c) => c.notNull().unique())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("original_name", "text", (c) => c.notNull())
    .addColumn("media_type", "text", (c) => c.notNull())
    .addColumn("byte_size", big, (c) => c.notNull())
    .addColumn("width", "integer", (c) => c.notNull())
    .addColumn("height", "integer", (c) => c.notNull())
    .addColumn("taken_at", "text")
    .addColumn("captured_at", key, (c) => c.notNull())
    .addColumn("camera_make", "text")
    .addColumn("camera_model", "text")
    .addColumn("lens", "text")
    .addColumn("gps_lat", real)
    .addColumn("gps_lon", real)
    .addColumn("gps_alt", real)
    .addColumn("orientation", "integer")
    .addColumn("place", "text")
    .addColumn("thumbhash", "text")
    .addColumn("created_at", key, (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("summary", "text")
    .addColumn("category", "text")
    .addColumn("tags", "text")
    .addColumn("alt_text", "text")
    .addColumn("text", "text")
    .addColumn("confidence", real)
    .addColumn("extras", "text")
    .addColumn("provider", "text")
    .addColumn("model", "text")
    .addColumn("prompt_version", "text")
    .addColumn("input_tokens", big)
    .addColumn("output_tokens", big)
    .addColumn("cost_usd", real)
    .addColumn("ms", big)
    .addColumn("analysed_at", "text")
    .addColumn("analysis_job_id", "text")
    .addColumn("spent_input_tokens", big, (c) => c.notNull().defaultTo(0))
    .addColumn("spent_output_tokens", big, (c) => c.notNull().defaultTo(0))
    .addColumn("spent_cost_usd", real, (c) => c.notNull().defaultTo(0))
    .addColumn("edit_summary", "text")
    .addColumn("edit_category", "text")
    .addColumn("edit_tags", "text")
    .addColumn("edit_alt_text", "text")
    .addColumn("edited_at", "text")
    .addColumn("category_effective", "text", (c) => {
      const generated = c.generatedAlwaysAs(sql`coalesce(edit_category, category)`);
      return pg ? generated.stored() : generated;
    })
    .execute();

  // Newest first, with and without the common filters: a page is an index range scan at any depth.
  await db.schema.createIndex("images_created").on("images").columns(["created_at", "id"]).execute();
  await db.schema
    .createIndex("images_category_created")
    .on("images")
    .columns(["category_effective", "created_at", "id"])
    .execute();
  await db.schema
    .createIndex("images_status_created")
    .on("images")
    .columns(["status", "created_at", "id"])
    .execute();
  await db.schema.createIndex("images_captured").on("images").column("captured_at").execute();

  await db.schema
    .createTable("embeddings")
    .addColumn("image_id", key, (c) => c.notNull().references("images.id").onDelete("cascade"))
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("vector", bytes, (c) => c.notNull())
    .addPrimaryKeyConstraint("embeddings_pk", ["image_id", "model"])
    .execute();
  await db.schema.createIndex("embeddings_model").on("embeddings").column("model").execute();

  await db.schema
    .createTable("jobs")
    .addColumn("id", key, (c) => c.primaryKey())
    .addColumn("image_id", key, (c) => c.notNull().references("images.id").onDelete("cascade"))
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("run_at", big, (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", big)
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  // At most one pending job per photo: enqueue relies on it under concurrency.
  await db.schema
    .createIndex("jobs_pending_image")
    .on("jobs")
    .column("image_id")
    .unique()
    .where(sql.ref("state"), "in", sql`('queued', 'running')`)
    .execute();
  // Only pending jobs are looked at by claim, however many finished ones pile up.
  await db.schema
    .createIndex("jobs_due")
    .on("jobs")
    .column("run_at")
    .where(sql.ref("state"), "in", sql`('queued', 'running')`)
    .execute();
  await db.schema.createIndex("jobs_image").on("jobs").column("image_id").execute();
}

/** Lets a date-range page walk the newest-first index and test capture times without reading rows. */
export async function coverCaptureTime(db: AnyDb): Promise<void> {
  await db.schema
    .createIndex("images_created_captured")
    .on("images")
    .columns(["created_at", "id", "captured_at"])
    .execute();
  await db.schema.dropIndex("images_created").execute();
}

/** The trash: a trashed photo keeps its row and files, hidden from listings, until the trash is emptied. */
export async function addTrash(db: AnyDb): Promise<void> {
  await db.schema.alterTable("images").addColumn("trashed_at", "text").execute();
  await db.schema
    .createIndex("images_trashed")
    .on("images")
    .columns(["trashed_at", "id"])
    .where(sql.ref("trashed_at"), "is not", null)
    .execute();
}

/** A row per process that health checks rewrite: a full disk or read-only database shows at once. */
export async function addHealthProbes(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("health_probes")
    .addColumn("process", "text", (c) => c.primaryKey())
    .addColumn("probed_at", "text", (c) => c.notNull())
    .execute();
}

/**
 * Albums (chosen photos or a saved search), and the indexes the timeline, the capture-time order and the
 * place filter need: a page in capture-time order, from any month and with or without a category, is an
 * index range scan; the timeline's monthly counts read that index alone (trashed_at is in it).
 */
export async function addAlbums(db: AnyDb, dialect: "sqlite" | "postgres"): Promise<void> {
  const key = dialect === "postgres" ? sql`text collate "C"` : sql`text`;
  await db.schema
    .createTable("albums")
    .addColumn("id", key, (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("filters", "text")
    .addColumn("cover_id", key, (c) => c.references("images.id").onDelete("set null"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("album_images")
    .addColumn("album_id", key, (c) => c.notNull().references("albums.id").onDelete("cascade"))
    .addColumn("image_id", key, (c) => c.notNull().references("images.id").onDelete("cascade"))
    .addColumn("added_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("album_images_pk", ["album_id", "image_id"])
    .execute();
  // Deleting a photo finds its memberships (the cascade), and albums find a photo's.
  await db.schema.createIndex("album_images_image").on("album_images").column("image_id").execute();
  await db.schema.createIndex("albums_cover").on("albums").column("cover_id").execute();

  await db.schema
    .createIndex("images_taken")
    .on("images")
    .columns(["captured_at", "id", "trashed_at"])
    .execute();
  await db.schema.dropIndex("images_captured").execute();
  await db.schema
    .createIndex("images_category_taken")
    .on("images")
    .columns(["category_effective", "captured_at", "id"])
    .execute();
  // A place's photos newest first; the map's counts and positions read this index alone.
  await db.schema
    .createIndex("images_place")
    .on("images")
    .columns(["place", "created_at", "id", "gps_lat", "gps_lon", "trashed_at"])
    .where(sql.ref("place"), "is not", null)
    .execute();
}

/**
 * The words a photo came with (its XMP, IPTC and EXIF captions, keywords and alt text, or its sidecar's), kept
 * apart from the analysis and from the gallery's edits, and notes on metadata that could not be read.
 * Each dialect then adds them to its search index.
 */
export async function addOwnWords(db: AnyDb): Promise<void> {
  for (const column of [
    "own_title",
    "own_description",
    "own_keywords",
    "own_alt_text",
    "own_sources",
    "metadata_notes",
  ]) {
    await db.schema.alterTable("images").addColumn(column, "text").execute();
  }
}

/**
 * Near-duplicates: each photo's perceptual hashes and sharpness, an index of their 16-bit bands (a lookup
 * is exact matches on one indexed integer, never a scan), and the pairs found.
 */
export async function addPerceptualHashes(db: AnyDb, dialect: "sqlite" | "postgres"): Promise<void> {
  const pg = dialect === "postgres";
  const key = pg ? sql`text collate "C"` : sql`text`;
  const real = pg ? sql`double precision` : sql`real`;
  await db.schema.alterTable("images").addColumn("perceptual_hash", "text").execute();
  await db.schema.alterTable("images").addColumn("sharpness", real).execute();
  // Photos still to fingerprint (stored before this migration) are found without a scan.
  await db.schema
    .createIndex("images_unfingerprinted")
    .on("images")
    .column("id")
    .where(sql.ref("sharpness"), "is", null)
    .execute();
  await db.schema
    .createTable("image_hash_keys")
    .addColumn("key", "integer", (c) => c.notNull())
    .addColumn("image_id", key, (c) => c.notNull().references("images.id").onDelete("cascade"))
    .addPrimaryKeyConstraint("image_hash_keys_pk", ["key", "image_id"])
    .execute();
  await db.schema.createIndex("image_hash_keys_image").on("image_hash_keys").column("image_id").execute();
  await db.schema
    .createTable("duplicate_pairs")
    .addColumn("image_a", key, (c) => c.notNull().references("images.id").onDelete("cascade"))
    .addColumn("image_b", key, (c) => c.notNull().references("images.id").onDelete("cascade"))
    .addColumn("distance", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("dismissed_at", "text")
    .addPrimaryKeyConstraint("duplicate_pairs_pk", ["image_a", "image_b"])
    .execute();
  await db.schema.createIndex("duplicate_pairs_b").on("duplicate_pairs").column("image_b").execute();
}

/**
 * When each embedding was last written (epoch milliseconds, database clock), so an in-memory index of
 * similar photos reads only what changed since it last looked. Older rows count as written at 0.
 */
export async function addEmbeddingChanges(db: AnyDb, dialect: "sqlite" | "postgres"): Promise<void> {
  const big = dialect === "postgres" ? sql`bigint` : sql`integer`;
  await db.schema
    .alterTable("embeddings")
    .addColumn("changed_ms", big, (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex("embeddings_changes")
    .on("embeddings")
    .columns(["model", "changed_ms", "image_id"])
    .execute();
  await db.schema.dropIndex("embeddings_model").execute();
}

/** What each embedding cost (a remote provider's, for search by meaning), for the statistics. */
export async function addEmbeddingCosts(db: AnyDb, dialect: "sqlite" | "postgres"): Promise<void> {
  const real = dialect === "postgres" ? sql`double precision` : sql`real`;
  await db.schema
    .alterTable("embeddings")
    .addColumn("input_tokens", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable("embeddings")
    .addColumn("cost_usd", real, (c) => c.notNull().defaultTo(0))
    .execute();
}

/** Applies in-code migrations (nothing is read from disk, so dist/ works the same). */
export async function migrate(
  db: AnyDb,
  migrations: Record<string, Migration>,
  logger: Logger,
  label: string,
  /**
   * The PostgreSQL schema of the migration tables. Kysely looks for them in every schema otherwise, and
   * skips creating its own when another schema of the database has them.
   */
  schema?: string,
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  for (const result of results ?? []) {
    if (result.status === "Success") logger.info({ migration: result.migrationName }, `${label}: migrated`);
    if (result.status === "Error") logger.error({ migration: result.migrationName }, `${label}: failed`);
  }
  if (error) {
    throw new PhotocatError("internal", `${label}: database migration failed: ${String(error)}`, {
      cause: error,
    });
  }
}

/** Server-side sign-in sessions: a cookie is only as good as its row, so sign-out holds on every process. */
export async function createSessionsTable(db: AnyDb, dialect: "sqlite" | "postgres"): Promise<void> {
  const big = dialect === "postgres" ? sql`bigint` : sql`integer`;
  await db.schema
    .createTable("sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("created_at", big, (c) => c.notNull())
    .addColumn("expires_at", big, (c) => c.notNull())
    .addColumn("revoked_at", big)
    .execute();
  await db.schema.createIndex("sessions_expires").on("sessions").column("expires_at").execute();
}

/**
 * Jobs carry a kind and a JSON payload, and need not be about a photo (batch polling). Existing jobs
 * become analyse jobs. The table is rebuilt, as SQLite cannot drop a NOT NULL constraint in place.
 */
export async function typedJobs(db: AnyDb, dialect: "sqlite" | "postgres"): Promise<void> {
  const pg = dialect === "postgres";
  const key = pg ? sql`text collate "C"` : sql`text`;
  const big = pg ? sql`bigint` : sql`integer`;
  await db.schema
    .createTable("jobs_typed")
    .addColumn("id", key, (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("dedupe_key", key, (c) => c.notNull())
    .addColumn("image_id", key, (c) => c.references("images.id").onDelete("cascade"))
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("run_at", big, (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", big)
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  const payload = pg
    ? sql`json_build_object('imageId', image_id)::text`
    : sql`json_object('imageId', image_id)`;
  await sql`insert into jobs_typed (id, kind, payload, dedupe_key, image_id, state, attempts, max_attempts,
      run_at, lease_owner, lease_until, last_error, created_at, updated_at)
    select id, 'analyse', ${payload}, 'analyse:' || image_id, image_id, state, attempts, max_attempts,
      run_at, lease_owner, lease_until, last_error, created_at, updated_at from jobs`.execute(db);
  await db.schema.dropTable("jobs").execute();
  await db.schema.alterTable("jobs_typed").renameTo("jobs").execute();
  // At most one pending job per key: enqueue relies on it under concurrency.
  await db.schema
    .createIndex("jobs_pending_key")
    .on("jobs")
    .column("dedupe_key")
    .unique()
    .where(sql.ref("state"), "in", sql`('queued', 'running')`)
    .execute();
  // Only pending jobs are looked at by claim, however many finished ones pile up.
  await db.schema
    .createIndex("jobs_due")
    .on("jobs")
    .columns(["run_at"])
    .where(sql.ref("state"), "in", sql`('queued', 'running')`)
    .execute();
  await db.schema.createIndex("jobs_image").on("jobs").column("image_id").execute();
}
