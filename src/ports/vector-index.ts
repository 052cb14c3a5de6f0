/** A photo near a query vector, and how near: the cosine of the two vectors, -1..1. */
export interface VectorHit {
  id: string;
  similarity: number;
}

/**
 * Finds the photos whose stored embedding of one model is nearest a query vector, by cosine. Implementations:
 * sqlite-vec on SQLite, pgvector on PostgreSQL where the extension is installed, and the in-memory index of
 * similar photos everywhere else (PostgreSQL without pgvector, DynamoDB). Trashed and deleted photos may be
 * among the hits: the caller lists the hits through the catalogue, which applies filters and the trash.
 */
export interface VectorIndex {
  readonly kind: string;
  /** Up to `k` photos with an embedding of `model`, nearest first. */
  nearest(model: string, vector: Float32Array, k: number): Promise<VectorHit[]>;
}
