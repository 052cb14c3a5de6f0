import type BetterSqlite3 from "better-sqlite3";
import * as sqliteVec from "sqlite-vec";
import type { Logger } from "../../logger.js";
import type { VectorHit, VectorIndex } from "../../ports/vector-index.js";

/**
 * Vector search in the SQLite file itself, with the sqlite-vec extension: an exact scan of the model's stored
 * vectors (float32, as the embeddings table keeps them) by cosine distance. Null when the extension cannot be
 * loaded on this platform (no prebuilt build): the caller falls back to the in-memory index.
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
  let nearestRows: BetterSqlite3.Statement<[Buffer, string, number, number], VectorRow> | undefined;
  return {
    kind: "sqlite-vec",
    async nearest(model: string, vector: Float32Array, k: number): Promise<VectorHit[]> {
      await ready;
      // Prepared on first use: the table exists only once migrations have run.
      nearestRows ??= database.prepare(
        // Vectors of another length (a model's dimensions changed) cannot be compared: left out.
        `select image_id as id, vec_distance_cosine(vector, ?) as distance from embeddings
         where model = ? and length(vector) = ? order by distance limit ?`,
      );
      const probe = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
      const rows = nearestRows.all(probe, model, probe.byteLength, Math.max(1, Math.floor(k)));
      return rows.map((r) => ({ id: r.id, similarity: 1 - r.distance }));
    },
  };
}

interface VectorRow {
  id: string;
  distance: number;
}
