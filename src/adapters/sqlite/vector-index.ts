import type BetterSqlite3 from "better-sqlite3";
import * as sqliteVec from "sqlite-vec";
import type { Logger } from "../../logger.js";
import type { VectorHit, VectorIndex } from "../../ports/vector-index.js";

/** Candidates per wanted hit picked by the 1-bit scan before the exact ranking. */
const OVERSAMPLE = 10;
/** Embeddings written this long before the newest one copied are copied again (a later stamp may commit first). */
const CHANGE_LAG_MS = 2_000;

/**
 * Vector search in the SQLite file itself, with the sqlite-vec extension, in two steps: a scan of every vector
 * kept as 1 bit per value (its sign: 128 bytes for 1,024 floats, in `embedding_bits`, copied from the
 * embeddings as they change) by Hamming distance picks 10 times the wanted number of candidates, which are then
 * ranked exactly by cosine on their stored float32 vectors. At 100,000 vectors of 1,024 floats this takes about
 * a sixth of an exact scan's time and finds the same top 20 (bench/vector-search.ts). Null when the extension
 * cannot be loaded on this platform (no prebuilt build): the caller falls back to the in-memory index.
 */
export function createSqliteVectorIndex(
  database: BetterSqlite3.Database,
  ready: Promise<void>,
  logger: Logger,
): VectorIndex | null {
  try {
    sqliteVec.load(database);
  } catch (error) {
    logger.warn(
      { err: error },
      "[catalog:sqlite] the sqlite-vec extension cannot be loaded here: search by meaning uses the in-memory index",
    );
    return null;
  }
  let statements: ReturnType<typeof prepare> | undefined;
  const prepare = () => {
    // Not a migration: only a process with the extension can fill it, and it can always be rebuilt.
    database.exec(`create table if not exists embedding_bits (
      model text not null, image_id text not null, changed_ms integer not null, bits blob not null,
      primary key (model, image_id))`);
    return {
      copied: database
        .prepare<[string], number | null>("select max(changed_ms) from embedding_bits where model = ?")
        .pluck(),
      // Embeddings of the recent window not copied at their current stamp (a read: no write lock for nothing).
      uncopied: database
        .prepare<{ model: string; since: number }, number>(
          `select exists(select 1 from embeddings e where e.model = @model and e.changed_ms >= @since
             and not exists (select 1 from embedding_bits b
               where b.model = e.model and b.image_id = e.image_id and b.changed_ms = e.changed_ms))`,
        )
        .pluck(),
      copy: database.prepare<{ model: string; since: number }>(
        `insert or replace into embedding_bits (model, image_id, changed_ms, bits)
         select model, image_id, changed_ms, vec_quantize_binary(vector) from embeddings
         where model = @model and changed_ms >= @since and length(vector) % 32 = 0`,
      ),
      exact: database.prepare<
        { model: string; probe: Buffer; floatBytes: number; wanted: number },
        VectorRow
      >(
        `select image_id as id, vec_distance_cosine(vector, @probe) as distance from embeddings
         where model = @model and length(vector) = @floatBytes order by distance limit @wanted`,
      ),
      nearest: database.prepare<
        {
          model: string;
          probe: Buffer;
          bitBytes: number;
          floatBytes: number;
          candidates: number;
          wanted: number;
        },
        VectorRow
      >(
        // Vectors of another length (a model's dimensions changed) cannot be compared: left out.
        `select image_id as id, vec_distance_cosine(vector, @probe) as distance from embeddings
         where model = @model and length(vector) = @floatBytes and image_id in (
           select image_id from embedding_bits where model = @model and length(bits) = @bitBytes
           order by vec_distance_hamming(vec_bit(bits), vec_quantize_binary(@probe)) limit @candidates)
         order by distance limit @wanted`,
      ),
    };
  };
  return {
    kind: "sqlite-vec",
    async nearest(model: string, vector: Float32Array, k: number): Promise<VectorHit[]> {
      await ready; // The embeddings table exists once migrations have run.
      statements ??= prepare();
      const probe = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
      const wanted = Math.max(1, Math.floor(k));
      if (vector.length % 8 !== 0) {
        // Bits are packed 8 to a byte: vectors of other lengths are scanned exactly.
        const rows = statements.exact.all({ model, probe, floatBytes: probe.byteLength, wanted });
        return rows.map((r) => ({ id: r.id, similarity: 1 - r.distance }));
      }
      // Copies what changed since the last copy (and, as a later stamp may commit first, shortly before it).
      const newest = statements.copied.get(model);
      const since = newest === null || newest === undefined ? 0 : newest - CHANGE_LAG_MS;
      if (statements.uncopied.get({ model, since }) === 1) statements.copy.run({ model, since });
      const rows = statements.nearest.all({
        model,
        probe,
        bitBytes: Math.ceil(vector.length / 8),
        floatBytes: probe.byteLength,
        candidates: wanted * OVERSAMPLE,
        wanted,
      });
      return rows.map((r) => ({ id: r.id, similarity: 1 - r.distance }));
    },
  };
}

interface VectorRow {
  id: string;
  distance: number;
}
