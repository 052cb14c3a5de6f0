import type pg from "pg";
import type { Logger } from "../../logger.js";
import { type Catalog, EMBEDDING_CHANGE_LAG_MS, type EmbeddingChange } from "../../ports/catalog.js";
import type { VectorHit, VectorIndex } from "../../ports/vector-index.js";

const COPY_PAGE = 500;

/**
 * Vector search with pgvector, where the extension is installed (pg_available_extensions) and can be created.
 * Its vectors live in a table of their own (`vector_index`, made here rather than by a migration, as it needs
 * the extension), copied from the embeddings as they change, and searched by cosine distance (`<=>`). Null,
 * with the reason logged, when pgvector is not there: the caller falls back to the in-memory index.
 */
export async function openPgvectorIndex(
  pool: pg.Pool,
  catalog: Pick<Catalog, "changedEmbeddings">,
  logger: Logger,
): Promise<VectorIndex | null> {
  try {
    const { rows } = await pool.query("select 1 from pg_available_extensions where name = 'vector'");
    if (rows.length === 0) {
      logger.info("[catalog:postgres] pgvector is not installed: search by meaning uses the in-memory index");
      return null;
    }
    await pool.query("create extension if not exists vector");
    await pool.query(`create table if not exists vector_index (
      model text not null, image_id text not null, changed_ms bigint not null, embedding vector not null,
      primary key (model, image_id))`);
  } catch (error) {
    logger.warn(
      { err: error },
      "[catalog:postgres] pgvector cannot be used (create extension vector): search by meaning uses the in-memory index",
    );
    return null;
  }
  const copying = new Map<string, Promise<void>>();

  /** Copies the model's embeddings written since the newest one copied. */
  async function copyChanges(model: string): Promise<void> {
    const { rows } = await pool.query<{ ms: number | null }>(
      "select max(changed_ms)::float8 as ms from vector_index where model = $1",
      [model],
    );
    const newest = rows[0]?.ms;
    let since: EmbeddingChange | null =
      newest === null || newest === undefined
        ? null
        : { changedMs: newest - EMBEDDING_CHANGE_LAG_MS, imageId: "" };
    for (;;) {
      const changes = await catalog.changedEmbeddings(model, since, COPY_PAGE);
      for (const change of changes) {
        await pool.query(
          `insert into vector_index (model, image_id, changed_ms, embedding) values ($1, $2, $3, $4::vector)
           on conflict (model, image_id) do update set changed_ms = excluded.changed_ms, embedding = excluded.embedding`,
          [model, change.imageId, change.changedMs, `[${Array.from(change.vector).join(",")}]`],
        );
      }
      if (changes.length < COPY_PAGE) return;
      since = changes.at(-1)!;
    }
  }

  return {
    kind: "pgvector",
    async nearest(model: string, vector: Float32Array, k: number): Promise<VectorHit[]> {
      let copy = copying.get(model);
      if (!copy) {
        copy = copyChanges(model).finally(() => copying.delete(model));
        copying.set(model, copy);
      }
      await copy;
      const probe = `[${Array.from(vector).join(",")}]`;
      const { rows } = await pool.query<{ id: string; distance: number }>(
        // A purged photo's copy stays (embeddings go by cascade, copies do not): it must not take a place.
        `select v.image_id as id, (v.embedding <=> $1::vector)::float8 as distance from vector_index v
         where v.model = $2 and vector_dims(v.embedding) = $3
           and exists (select 1 from embeddings e where e.image_id = v.image_id and e.model = v.model)
         order by v.embedding <=> $1::vector limit $4`,
        [probe, model, vector.length, Math.max(1, Math.floor(k))],
      );
      return rows.map((r) => ({ id: r.id, similarity: 1 - Number(r.distance) }));
    },
  };
}
