import type BetterSqlite3 from "better-sqlite3";
import * as sqliteVec from "sqlite-vec";
import { ChangeFollower, type ChangeStamp } from "../../domain/change-follower.js";
import type { Logger } from "../../logger.js";
import { EMBEDDING_CHANGE_LAG_MS } from "../../ports/catalog.js";
import type { VectorHit, VectorIndex } from "../../ports/vector-index.js";

/**
 * Per wanted hit: sketches picked by Hamming distance, and of those, photos whose vectors are read for the exact
 * ranking, picked by the query's values summed at each sketch's set bits (much nearer the cosine than Hamming
 * distance: most of the time goes to reading vectors, so fewer are read). Measured by bench/vector-search.ts.
 */
const SKETCHED = 10;
const READ = 2;
/** Sketches kept by the first, partial Hamming pass, per sketch the full distance picks. */
const PREPICK = 8;
/** Rows read per statement while loading, so a first load of a large catalogue lets other requests in. */
const LOAD_PAGE = 5_000;

/**
 * Vector search in the SQLite file itself, with the sqlite-vec extension, in two steps: a scan of every vector
 * kept as 1 bit per value (its sign: 128 bytes for 1,024 floats), in this process's memory, picks SKETCHED
 * times the wanted number of candidates by Hamming distance and READ times by the query's values at their bits,
 * which are then ranked exactly by cosine on their stored float32 vectors, read with one statement. At 100,000
 * vectors of 1,024 floats the sketches take 12.8 MB (plus the ids; int8 vectors instead of the reads would take
 * 100 MB) and a search about a quarter of the time the same steps took in SQL (bench/vector-search.ts). The sketches load on a
 * model's first search, then follow the embeddings' change stamps, as the in-memory index does, so writes by
 * other processes sharing the file are seen on the next search; a photo whose embedding is gone (purged, or
 * now of another length) leaves the sketches when the exact step misses it. Null when the extension cannot
 * be loaded on this platform (no prebuilt build): the caller falls back to the in-memory index.
 */
export function createSqliteVectorIndex(
  database: BetterSqlite3.Database,
  ready: Promise<void>,
  logger: Logger,
  /** Oversampling (benchmarks): SKETCHED and READ by default. */
  options: { sketched?: number; read?: number } = {},
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
  const sketched = options.sketched ?? SKETCHED;
  const read = options.read ?? READ;
  let statements: ReturnType<typeof prepare> | undefined;
  const prepare = () => ({
    // Vectors of another length (a model's dimensions changed) cannot be compared: each length has its sketches.
    changes: database.prepare<
      { model: string; floatBytes: number; ms: number; id: string; limit: number },
      Change
    >(
      `select image_id as imageId, changed_ms as changedMs, vec_quantize_binary(vector) as bits from embeddings
       where model = @model and (changed_ms, image_id) > (@ms, @id) and length(vector) = @floatBytes
       order by changed_ms, image_id limit @limit`,
    ),
    quantize: database.prepare<[Buffer], Buffer>("select vec_quantize_binary(?)").pluck(),
    candidates: database.prepare<
      { model: string; probe: Buffer; floatBytes: number; ids: string },
      VectorRow
    >(
      `select image_id as id, vec_distance_cosine(vector, @probe) as distance from embeddings
       where model = @model and image_id in (select value from json_each(@ids)) and length(vector) = @floatBytes`,
    ),
    exact: database.prepare<{ model: string; probe: Buffer; floatBytes: number; wanted: number }, VectorRow>(
      `select image_id as id, vec_distance_cosine(vector, @probe) as distance from embeddings
       where model = @model and length(vector) = @floatBytes order by distance limit @wanted`,
    ),
  });
  const sketches = new Map<string, Sketches>();
  return {
    kind: "sqlite-vec",
    async nearest(model: string, vector: Float32Array, k: number): Promise<VectorHit[]> {
      await ready; // The embeddings table exists once migrations have run.
      statements ??= prepare();
      const run = statements;
      const probe = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
      const floatBytes = probe.byteLength;
      const wanted = Math.max(1, Math.floor(k));
      if (vector.length % 8 !== 0) {
        // Bits are packed 8 to a byte: vectors of other lengths are scanned exactly.
        return run.exact.all({ model, probe, floatBytes, wanted }).map(toHit);
      }
      const key = `${vector.length}:${model}`;
      let index = sketches.get(key);
      if (!index) {
        index = new Sketches(vector.length / 8, (since, limit) =>
          run.changes.all({
            model,
            floatBytes,
            ms: since?.changedMs ?? Number.NEGATIVE_INFINITY,
            id: since?.imageId ?? "",
            limit,
          }),
        );
        sketches.set(key, index);
      }
      await index.refresh();
      const query = wordsOf(run.quantize.get(probe)!);
      const sums = byteSums(vector);
      for (;;) {
        const ids = index.nearest(query, sums, wanted * sketched, wanted * read);
        const rows = run.candidates.all({ model, probe, floatBytes, ids: JSON.stringify(ids) });
        if (rows.length < ids.length) {
          // Gone since (purged, or rewritten at another length): out of the sketches, and the scan runs again.
          const found = new Set(rows.map((r) => r.id));
          for (const id of ids) if (!found.has(id)) index.remove(id);
          if (index.size > rows.length) continue;
        }
        rows.sort((a, b) => a.distance - b.distance);
        return rows.slice(0, wanted).map(toHit);
      }
    },
  };
}

interface VectorRow {
  id: string;
  distance: number;
}

const toHit = (r: VectorRow): VectorHit => ({ id: r.id, similarity: 1 - r.distance });

/** A sign-bit sketch as 32-bit words (the last one padded with zeros). */
function wordsOf(bits: Uint8Array, words = Math.ceil(bits.length / 4)): Uint32Array {
  const out = new Uint32Array(words);
  new Uint8Array(out.buffer).set(bits);
  return out;
}

/**
 * For each byte of a sketch and each of its 256 values, the sum of the query's values at its set bits
 * (sqlite-vec packs the lowest value in the lowest bit).
 */
function byteSums(query: Float32Array): Float32Array {
  const sums = new Float32Array((query.length / 8) * 256);
  for (let byte = 0, base = 0; byte < query.length / 8; byte++, base += 256) {
    for (let value = 1; value < 256; value++) {
      const lowest = value & -value;
      sums[base + value] = sums[base + (value ^ lowest)]! + query[byte * 8 + 31 - Math.clz32(lowest)]!;
    }
  }
  return sums;
}

interface Change extends ChangeStamp {
  bits: Buffer;
}

/** The sign-bit sketches of one model's vectors of one length, by photo, kept in step with the embeddings. */
class Sketches {
  readonly #words: number;
  #ids: string[] = [];
  #slotOf = new Map<string, number>();
  #bits: Uint32Array;
  readonly #changes: ChangeFollower<Change>;

  constructor(bytes: number, changes: (since: ChangeStamp | null, limit: number) => Change[]) {
    this.#words = Math.ceil(bytes / 4);
    this.#bits = new Uint32Array(1024 * this.#words);
    this.#changes = new ChangeFollower(changes, (change) => this.#put(change), {
      lagMs: EMBEDDING_CHANGE_LAG_MS,
      pageSize: LOAD_PAGE,
    });
  }

  get size(): number {
    return this.#ids.length;
  }

  /** Reads the embeddings written since the last look (all of them the first time). */
  refresh(): Promise<void> {
    return this.#changes.refresh();
  }

  #put(change: Change): void {
    let slot = this.#slotOf.get(change.imageId);
    if (slot === undefined) {
      slot = this.#ids.length;
      this.#ids.push(change.imageId);
      this.#slotOf.set(change.imageId, slot);
      if ((slot + 1) * this.#words > this.#bits.length) {
        const bits = new Uint32Array(this.#bits.length * 2);
        bits.set(this.#bits);
        this.#bits = bits;
      }
    }
    this.#bits.set(wordsOf(change.bits, this.#words), slot * this.#words);
  }

  /** Forgets a photo: the last slot moves into its place. */
  remove(id: string): void {
    const slot = this.#slotOf.get(id);
    if (slot === undefined) return;
    const last = this.#ids.length - 1;
    const moved = this.#ids[last]!;
    this.#ids[slot] = moved;
    this.#slotOf.set(moved, slot);
    this.#bits.copyWithin(slot * this.#words, last * this.#words, (last + 1) * this.#words);
    this.#ids.pop();
    this.#slotOf.delete(id);
  }

  /**
   * The ids of the `count` photos whose sketches best match the query: of the `sketched` nearest `query` by
   * Hamming distance (ties at the boundary: any of them), those with the highest sum of `sums` at their bits.
   */
  nearest(query: Uint32Array, sums: Float32Array, sketched: number, count: number): string[] {
    const picked = this.#nearestByHamming(query, Math.ceil(sketched));
    if (picked.length <= count) return Array.from(picked, (slot) => this.#ids[slot]!);
    const bytes = new Uint8Array(this.#bits.buffer);
    const stride = this.#words * 4;
    const scores = new Float64Array(picked.length);
    for (let i = 0; i < picked.length; i++) {
      let score = 0;
      for (let at = picked[i]! * stride, base = 0; base < sums.length; at++, base += 256) {
        score += sums[base + bytes[at]!]!;
      }
      scores[i] = score;
    }
    const order = Uint32Array.from(picked.keys()).sort((a, b) => scores[b]! - scores[a]!);
    return Array.from(order.subarray(0, count), (i) => this.#ids[picked[i]!]!);
  }

  /**
   * The `count` slots nearest `query` by Hamming distance (ties at the boundary: any of them). Past PREPICK
   * times `count` sketches, a first pass over their first quarter keeps that many, and the full distance picks
   * among those: twice as fast, and what it loses the exact ranking would mostly not keep (bench/vector-search.ts).
   */
  #nearestByHamming(query: Uint32Array, count: number): Int32Array {
    const size = this.size;
    if (size <= count) return Int32Array.from(this.#ids.keys());
    const words = this.#words;
    const prepicked =
      words >= 16 && size > PREPICK * count ? this.#closest(query, null, words >> 2, PREPICK * count) : null;
    return this.#closest(query, prepicked, words, count);
  }

  /** Of `slots` (all when null), the `count` nearest `query` by the Hamming distance of their first `words`. */
  #closest(query: Uint32Array, slots: Int32Array | null, words: number, count: number): Int32Array {
    const stride = this.#words;
    const bits = this.#bits;
    const n = slots ? slots.length : this.size;
    const distances = new Uint16Array(n);
    const histogram = new Uint32Array(words * 32 + 1);
    for (let i = 0; i < n; i++) {
      const base = (slots ? slots[i]! : i) * stride;
      let d = 0;
      for (let w = 0; w < words; w++) {
        // Set bits of the word that differs (popcount, as the bits of a 32-bit integer).
        let x = bits[base + w]! ^ query[w]!;
        x -= (x >>> 1) & 0x55555555;
        x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
        d += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      }
      distances[i] = d;
      histogram[d]!++;
    }
    // The distance below which fewer than `count` sketches lie, and how many at it are taken.
    let threshold = 0;
    let below = 0;
    while (below + histogram[threshold]! < count) below += histogram[threshold++]!;
    let atThreshold = count - below;
    const nearest = new Int32Array(count);
    for (let i = 0, taken = 0; taken < count; i++) {
      const d = distances[i]!;
      if (d < threshold || (d === threshold && atThreshold-- > 0)) nearest[taken++] = slots ? slots[i]! : i;
    }
    return nearest;
  }
}
