import { ChangeFollower } from "../domain/change-follower.js";
import { PhotocatError } from "../domain/errors.js";
import type { ImageRecord } from "../domain/image.js";
import { type Catalog, EMBEDDING_CHANGE_LAG_MS, type EmbeddingChange } from "../ports/catalog.js";
import type { VectorHit, VectorIndex } from "../ports/vector-index.js";

export type SimilarDeps = {
  catalog: Pick<Catalog, "getImage" | "getImages" | "embeddingsOf" | "changedEmbeddings">;
};

export interface SimilarPhoto {
  image: ImageRecord;
  /** Cosine similarity of the two embeddings, -1..1. */
  similarity: number;
}

export const MAX_SIMILAR = 100;
/**
 * The index keeps a sketch of each embedding: SKETCH_SIZE values, each input value added (with a sign) to
 * SKETCH_SPREAD of them (a sparse random projection). Cosines of sketches pick the CANDIDATES, which are then
 * ranked on their full embeddings (kept in memory as bytes): re-ranking costs most of a query, and fewer than
 * 300 candidates lose some of the nearest photos.
 */
const SKETCH_SIZE = 128;
const SKETCH_SPREAD = 4;
const CANDIDATES = 300;
const LOAD_PAGE = 2_000;

/** Which sketch values each input value goes to, and with which sign: fixed, so every process agrees. */
function sketchPlan(inputs: number): { slots: Uint16Array; signs: Float32Array } {
  const slots = new Uint16Array(inputs * SKETCH_SPREAD);
  const signs = new Float32Array(inputs * SKETCH_SPREAD);
  let state = 0x9e3779b9;
  const next = () => {
    // xorshift32: deterministic, good enough to scatter inputs.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  for (let i = 0; i < inputs * SKETCH_SPREAD; i++) {
    slots[i] = next() % SKETCH_SIZE;
    signs[i] = next() & 1 ? 1 : -1;
  }
  return { slots, signs };
}

/** A fixed-size min-heap of the best (highest) scores seen, for picking the nearest few of many. */
class TopScores {
  readonly scores: Float32Array;
  readonly items: Int32Array;
  size = 0;
  constructor(readonly capacity: number) {
    this.scores = new Float32Array(capacity);
    this.items = new Int32Array(capacity);
  }

  get floor(): number {
    return this.size < this.capacity ? Number.NEGATIVE_INFINITY : this.scores[0]!;
  }

  offer(score: number, item: number): void {
    const { scores, items, capacity } = this;
    if (this.size < capacity) {
      let at = this.size++;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (scores[parent]! <= score) break;
        scores[at] = scores[parent]!;
        items[at] = items[parent]!;
        at = parent;
      }
      scores[at] = score;
      items[at] = item;
      return;
    }
    if (score <= scores[0]!) return;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= capacity) break;
      const right = left + 1;
      const child = right < capacity && scores[right]! < scores[left]! ? right : left;
      if (scores[child]! >= score) break;
      scores[at] = scores[child]!;
      items[at] = items[child]!;
      at = child;
    }
    scores[at] = score;
    items[at] = item;
  }

  /** The items with their scores, best first. */
  sorted(): { item: number; score: number }[] {
    return [...this.items.subarray(0, this.size)]
      .map((item, i) => ({ item, score: this.scores[i]! }))
      .sort((a, b) => b.score - a.score);
  }
}

/** Below this many photos a scan of every sketch is fast enough; above it, the sketches are grouped. */
const GROUP_FROM = 8_000;
/**
 * About the square root of the photos in groups (316 at 100,000), and how much a query reads: the groups
 * nearest it until it has read PROBE_PER_CANDIDATE sketches for each candidate it picks, and at least
 * MIN_PROBED_GROUPS groups (2.4% of 100,000 photos for 300 candidates). Many small groups hold fewer sketches
 * far from the query than a few big ones: 20% of 64 groups found fewer of the nearest photos.
 */
const MAX_GROUPS = 1_024;
const PROBE_PER_CANDIDATE = 8;
const MIN_PROBED_GROUPS = 8;
/** k-means runs on a sample of this many sketches per group. */
const TRAINING_PER_GROUP = 32;
const TRAINING_ROUNDS = 6;

/** Dot product of the sketches of `a` at `aBase` and `b` at `bBase`, over their first `length` values. */
function sketchDot(
  a: Float32Array,
  aBase: number,
  b: Float32Array,
  bBase: number,
  length = SKETCH_SIZE,
): number {
  // Four sums: independent additions the processor can overlap.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let j = 0; j < length; j += 4) {
    s0 += a[aBase + j]! * b[bBase + j]!;
    s1 += a[aBase + j + 1]! * b[bBase + j + 1]!;
    s2 += a[aBase + j + 2]! * b[bBase + j + 2]!;
    s3 += a[aBase + j + 3]! * b[bBase + j + 3]!;
  }
  return s0 + s1 + s2 + s3;
}

/** Spherical k-means: `count` centres of unit length for the sketches of `data` at the slots `sample`. */
function kMeans(data: Float32Array, sample: Int32Array, count: number): Centres {
  const centres = new Float32Array(count * SKETCH_SIZE);
  for (let c = 0; c < count; c++) {
    const base = sample[Math.floor((c * sample.length) / count)]! * SKETCH_SIZE;
    centres.set(data.subarray(base, base + SKETCH_SIZE), c * SKETCH_SIZE);
  }
  for (let round = 0; round < TRAINING_ROUNDS; round++) {
    const { nearest } = new Centres(centres);
    const sums = new Float32Array(count * SKETCH_SIZE);
    for (const slot of sample) {
      const base = slot * SKETCH_SIZE;
      const to = nearest(data, base) * SKETCH_SIZE;
      for (let j = 0; j < SKETCH_SIZE; j++) sums[to + j]! += data[base + j]!;
    }
    for (let c = 0; c < count; c++) {
      const base = c * SKETCH_SIZE;
      const norm = Math.sqrt(sketchDot(sums, base, sums, base));
      // An empty group keeps its centre.
      if (norm > 0) for (let j = 0; j < SKETCH_SIZE; j++) centres[base + j] = sums[base + j]! / norm;
    }
  }
  return new Centres(centres);
}

/**
 * Group centres (sketches one after another), and a quick way to the one nearest a sketch: the SHORTLIST
 * centres nearest on the first PREFIX values (themselves a smaller random projection of the embedding) are
 * compared in full. Comparing each sketch with every centre in full took about 2 s more CPU to group 100,000
 * photos; this now and then finds the second nearest instead, which costs little recall (0.815 against 0.836
 * of the exact 12 nearest, 200 synthetic queries).
 */
const PREFIX = 32;
const SHORTLIST = 16;
class Centres {
  readonly count: number;
  readonly #shortlist: TopScores;

  constructor(readonly values: Float32Array) {
    this.count = values.length / SKETCH_SIZE;
    this.#shortlist = new TopScores(Math.min(SHORTLIST, this.count));
  }

  /** The centre nearest the sketch of `data` at `base`. */
  readonly nearest = (data: Float32Array, base: number): number => {
    const { values } = this;
    const shortlist = this.#shortlist;
    shortlist.size = 0;
    for (let c = 0; c < this.count; c++) {
      const score = sketchDot(values, c * SKETCH_SIZE, data, base, PREFIX);
      if (score > shortlist.floor) shortlist.offer(score, c);
    }
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let n = 0; n < shortlist.size; n++) {
      const c = shortlist.items[n]!;
      const score = sketchDot(values, c * SKETCH_SIZE, data, base);
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    return best;
  };
}

/** `query`'s first `length` values times the bytes of `vectors` from `base` (a plain loop V8 optimises). */
function dotQuantised(query: Float32Array, vectors: Int8Array, base: number, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    s0 += query[i]! * vectors[base + i]!;
    s1 += query[i + 1]! * vectors[base + i + 1]!;
    s2 += query[i + 2]! * vectors[base + i + 2]!;
    s3 += query[i + 3]! * vectors[base + i + 3]!;
  }
  for (; i < length; i++) s0 += query[i]! * vectors[base + i]!;
  return s0 + s1 + s2 + s3;
}

/**
 * One group's sketches packed one after another, so a query reads them in order (reading the same number
 * scattered over the whole index is several times slower), and the slot each belongs to.
 */
class PackedGroup {
  sketches = new Float32Array(64 * SKETCH_SIZE);
  slots = new Int32Array(64);
  size = 0;

  /** Appends a sketch; returns its position. */
  add(slot: number, sketch: Float32Array, from: number): number {
    if (this.size === this.slots.length) {
      const sketches = new Float32Array(this.sketches.length * 2);
      sketches.set(this.sketches);
      this.sketches = sketches;
      const slots = new Int32Array(this.slots.length * 2);
      slots.set(this.slots);
      this.slots = slots;
    }
    const at = this.size++;
    this.sketches.set(sketch.subarray(from, from + SKETCH_SIZE), at * SKETCH_SIZE);
    this.slots[at] = slot;
    return at;
  }

  /** Removes the sketch at `at` by moving the last one there; returns the slot moved (-1: none). */
  remove(at: number): number {
    const last = --this.size;
    if (at === last) return -1;
    this.sketches.copyWithin(at * SKETCH_SIZE, last * SKETCH_SIZE, (last + 1) * SKETCH_SIZE);
    this.slots[at] = this.slots[last]!;
    return this.slots[at]!;
  }

  /** Offers each sketch's cosine with `query` to `best`, but `skip`'s. */
  scan(query: Float32Array, best: TopScores, skip: number): void {
    offerSketches(query, this.sketches, this.size, this.slots, best, skip);
  }
}

/**
 * Offers the cosine with `query` of each of the first `count` sketches in `sketches` to `best`, as the slot
 * `slots[at]` (or `at` itself without `slots`), leaving out `skip`.
 */
function offerSketches(
  query: Float32Array,
  sketches: Float32Array,
  count: number,
  slots: Int32Array | null,
  best: TopScores,
  skip: number,
): void {
  for (let at = 0; at < count; at++) {
    const score = sketchDot(query, 0, sketches, at * SKETCH_SIZE);
    const slot = slots ? slots[at]! : at;
    if (score > best.floor && slot !== skip) best.offer(score, slot);
  }
}

/**
 * The sketches of one embedding model's vectors, by photo; loaded on first use, then kept in step. Past
 * GROUP_FROM photos the sketches are grouped around centres found by k-means (an inverted file, as vector
 * databases do): a query reads only the groups nearest it, a few percent of the catalogue.
 */
class SketchIndex {
  #ids: string[] = [];
  #slotOf = new Map<string, number>();
  #sketches = new Float32Array(1024 * SKETCH_SIZE);
  /** Each embedding in full, quantised to bytes (a quarter of its floats' memory), for the final ranking. */
  #vectors = new Int8Array(0);
  #vectorNorms = new Float32Array(1024);
  #dimensions = 0;
  #plan: ReturnType<typeof sketchPlan> | null = null;
  readonly #changes: ChangeFollower<EmbeddingChange & { vector: Float32Array }>;
  /**
   * Group centres (unit length), each group's sketches, and each slot's group and position in it; null while
   * ungrouped.
   */
  #centres: Centres | null = null;
  #groups: PackedGroup[] = [];
  #groupOf: Int32Array = new Int32Array(0);
  #positionOf: Int32Array = new Int32Array(0);
  #groupedAt = 0;

  constructor(model: string, catalog: Pick<Catalog, "changedEmbeddings">) {
    this.#changes = new ChangeFollower(
      (since, limit) => catalog.changedEmbeddings(model, since, limit),
      (change) => this.#put(change.imageId, change.vector),
      {
        lagMs: EMBEDDING_CHANGE_LAG_MS,
        pageSize: LOAD_PAGE,
        // Grouped anew when the catalogue has doubled since: the centres follow what it holds.
        afterRead: () => {
          if (this.size >= GROUP_FROM && this.size >= 2 * this.#groupedAt) this.#group();
        },
      },
    );
  }

  get size(): number {
    return this.#ids.length;
  }

  /** Reads the embeddings written since the last look (all of them the first time). */
  refresh(): Promise<void> {
    return this.#changes.refresh();
  }

  sketch(vector: Float32Array): Float32Array {
    if (!this.#plan || this.#plan.slots.length !== vector.length * SKETCH_SPREAD) {
      this.#plan = sketchPlan(vector.length);
    }
    const { slots, signs } = this.#plan;
    const out = new Float32Array(SKETCH_SIZE);
    for (let i = 0, k = 0; i < vector.length; i++) {
      const value = vector[i]!;
      for (let h = 0; h < SKETCH_SPREAD; h++, k++) out[slots[k]!]! += signs[k]! * value;
    }
    let norm = 0;
    for (const v of out) norm += v * v;
    if (norm > 0) for (let j = 0; j < SKETCH_SIZE; j++) out[j]! /= Math.sqrt(norm);
    return out;
  }

  #put(id: string, vector: Float32Array): void {
    let slot = this.#slotOf.get(id);
    if (slot === undefined) {
      slot = this.#ids.length;
      this.#ids.push(id);
      this.#slotOf.set(id, slot);
      if ((slot + 1) * SKETCH_SIZE > this.#sketches.length) {
        const grown = new Float32Array(this.#sketches.length * 2);
        grown.set(this.#sketches);
        this.#sketches = grown;
      }
    }
    this.#sketches.set(this.sketch(vector), slot * SKETCH_SIZE);
    this.#storeVector(slot, vector);
    if (this.#centres) this.#assign(slot);
  }

  #storeVector(slot: number, vector: Float32Array): void {
    if (this.#dimensions === 0) this.#dimensions = vector.length;
    const size = this.#dimensions;
    if ((slot + 1) * size > this.#vectors.length) {
      const grown = new Int8Array(Math.max(1024 * size, this.#vectors.length * 2));
      grown.set(this.#vectors);
      this.#vectors = grown;
      const norms = new Float32Array(grown.length / size);
      norms.set(this.#vectorNorms.subarray(0, Math.min(this.#vectorNorms.length, norms.length)));
      this.#vectorNorms = norms;
    }
    let largest = 0;
    for (let i = 0; i < Math.min(size, vector.length); i++) largest = Math.max(largest, Math.abs(vector[i]!));
    const scale = largest > 0 ? 127 / largest : 0;
    let norm = 0;
    for (let i = 0; i < size; i++) {
      const q = Math.round((vector[i] ?? 0) * scale);
      this.#vectors[slot * size + i] = q;
      norm += q * q;
    }
    this.#vectorNorms[slot] = Math.sqrt(norm);
  }

  /**
   * The `k` photos nearest `query` (`exclude` left out), nearest first: the sketches pick `candidates`
   * generously, then the cosines with their full (quantised: within about 0.01) embeddings rank them.
   */
  nearest(query: Float32Array, k: number, candidates: number, exclude: string): VectorHit[] {
    const picked = this.#candidates(query, Math.max(k, candidates), exclude);
    const size = this.#dimensions;
    const length = Math.min(size, query.length);
    const vectors = this.#vectors;
    const norms = this.#vectorNorms;
    let queryNorm = 0;
    for (let i = 0; i < length; i++) queryNorm += query[i]! * query[i]!;
    queryNorm = Math.sqrt(queryNorm);
    if (queryNorm === 0) return [];
    const best = new TopScores(k);
    for (let n = 0; n < picked.size; n++) {
      const slot = picked.items[n]!;
      if (norms[slot] === 0) continue;
      best.offer(dotQuantised(query, vectors, slot * size, length) / (queryNorm * norms[slot]!), slot);
    }
    return best.sorted().map(({ item, score }) => ({ id: this.#ids[item]!, similarity: score }));
  }

  /** Puts a slot's (new) sketch in its nearest group (moving it out of the one it was in). */
  #assign(slot: number): void {
    if (slot >= this.#groupOf.length) {
      const length = Math.max(1024, this.#groupOf.length * 2);
      const groupOf = new Int32Array(length).fill(-1);
      groupOf.set(this.#groupOf);
      this.#groupOf = groupOf;
      const positionOf = new Int32Array(length);
      positionOf.set(this.#positionOf);
      this.#positionOf = positionOf;
    }
    const group = this.#centres!.nearest(this.#sketches, slot * SKETCH_SIZE);
    const previous = this.#groupOf[slot]!;
    const base = slot * SKETCH_SIZE;
    if (previous === group) {
      const at = this.#positionOf[slot]! * SKETCH_SIZE;
      this.#groups[group]!.sketches.set(this.#sketches.subarray(base, base + SKETCH_SIZE), at);
      return;
    }
    if (previous >= 0) {
      const moved = this.#groups[previous]!.remove(this.#positionOf[slot]!);
      if (moved >= 0) this.#positionOf[moved] = this.#positionOf[slot]!;
    }
    this.#positionOf[slot] = this.#groups[group]!.add(slot, this.#sketches, base);
    this.#groupOf[slot] = group;
  }

  /** k-means over a sample of the sketches, then every slot put in its group. */
  #group(): void {
    const count = Math.min(MAX_GROUPS, Math.round(Math.sqrt(this.size)));
    const step = Math.max(1, Math.floor(this.size / (count * TRAINING_PER_GROUP)));
    const sample = Int32Array.from({ length: Math.ceil(this.size / step) }, (_, n) => n * step);
    this.#centres = kMeans(this.#sketches, sample, count);
    this.#groups = Array.from({ length: count }, () => new PackedGroup());
    this.#groupOf = new Int32Array(Math.max(1024, this.size * 2)).fill(-1);
    this.#positionOf = new Int32Array(this.#groupOf.length);
    for (let slot = 0; slot < this.size; slot++) this.#assign(slot);
    this.#groupedAt = this.size;
  }

  /** About the `count` slots whose sketches are nearest `query`'s (`exclude` left out), in no order. */
  #candidates(query: Float32Array, count: number, exclude: string): TopScores {
    const sketch = this.sketch(query);
    const best = new TopScores(count);
    const skip = this.#slotOf.get(exclude) ?? -1;
    const centres = this.#centres;
    if (!centres) {
      offerSketches(sketch, this.#sketches, this.size, null, best, skip);
    } else {
      const order = this.#groups
        .map((_, c) => ({ c, score: sketchDot(sketch, 0, centres.values, c * SKETCH_SIZE) }))
        .sort((a, b) => b.score - a.score);
      const enough = count * PROBE_PER_CANDIDATE;
      let read = 0;
      for (const [n, { c }] of order.entries()) {
        if (n >= MIN_PROBED_GROUPS && read >= enough) break;
        this.#groups[c]!.scan(sketch, best, skip);
        read += this.#groups[c]!.size;
      }
    }
    return best;
  }
}

/**
 * The in-memory vector index: one sketch index per model that loads on first use and reads only what changed
 * on each later call, so every process serving the catalogue keeps in step with the others. It works on every
 * store; "more like this" always uses it, and search by meaning where the database has no vector search.
 */
export class MemoryVectorIndex implements VectorIndex {
  readonly kind = "memory";
  readonly #indexes = new Map<string, SketchIndex>();

  constructor(private readonly catalog: Pick<Catalog, "changedEmbeddings">) {}

  /** Up to `k` photos nearest `vector`, nearest first, `exclude` (the probe photo itself) left out. */
  async nearest(model: string, vector: Float32Array, k: number, exclude = ""): Promise<VectorHit[]> {
    const index = this.#index(model);
    await index.refresh();
    return index.nearest(vector, k, Math.max(CANDIDATES, k * 4), exclude);
  }

  /** Loads (or brings up to date) the model's index now; the photos it holds. */
  async warm(model: string): Promise<number> {
    const index = this.#index(model);
    await index.refresh();
    return index.size;
  }

  #index(model: string): SketchIndex {
    let index = this.#indexes.get(model);
    if (!index) {
      index = new SketchIndex(model, this.catalog);
      this.#indexes.set(model, index);
    }
    return index;
  }
}

const notFound = (id: string) => new PhotocatError("not_found", `no photo with id ${id}`);

/**
 * "More like this": the photos whose stored embedding (the most recently written of the photo's models) is
 * nearest, by cosine, from the in-memory vector index.
 */
export class SimilarPhotos {
  readonly #vectors: MemoryVectorIndex;

  constructor(private readonly deps: SimilarDeps) {
    this.#vectors = new MemoryVectorIndex(deps.catalog);
  }

  async similar(id: string, limit: number): Promise<SimilarPhoto[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new PhotocatError("invalid_request", "limit must be a whole number of at least 1");
    }
    const wanted = Math.min(limit, MAX_SIMILAR);
    const { catalog } = this.deps;
    const [embedding] = await catalog.embeddingsOf(id);
    if (!embedding) {
      const image = await catalog.getImage(id);
      if (!image) throw notFound(id);
      throw new PhotocatError(
        "conflict",
        `the photo ${id} has no embedding yet (status ${image.status}): similar photos are found once ` +
          "the local analyser has described it (photocat reanalyse)",
      );
    }
    // Deleted photos may linger in the index, and trashed ones stay there: both are left out here, so the
    // index is asked for a few more than shown (more again, rarely, while those left too few), and their
    // records are read nearest first, only as many as are still missing. The first read also checks that
    // the photo itself still exists.
    const shown: SimilarPhoto[] = [];
    const read = new Set<string>();
    let checked = false;
    for (let asked = wanted * 2; ; asked *= 4) {
      const ranked = await this.#vectors.nearest(embedding.model, embedding.vector, asked, id);
      const unread = ranked.filter((r) => !read.has(r.id));
      for (let next = 0; shown.length < wanted && (next < unread.length || !checked); ) {
        const part = unread.slice(next, next + wanted - shown.length);
        next += part.length;
        const ids = part.map((r) => r.id);
        for (const other of ids) read.add(other);
        const records = new Map(
          (await catalog.getImages(checked ? ids : [id, ...ids])).map((r) => [r.id, r]),
        );
        if (!checked && !records.has(id)) throw notFound(id);
        checked = true;
        for (const { id: other, similarity } of part) {
          const record = records.get(other);
          if (record && !record.trashedAt) shown.push({ image: record, similarity });
        }
      }
      if (shown.length >= wanted || ranked.length < asked) break;
    }
    return shown.sort((a, b) => b.similarity - a.similarity).slice(0, wanted);
  }

  /**
   * Loads now the index of the embedding model of the first of `ids` that has an embedding, so the first
   * "more like this" does not wait for it (seconds for 100,000 photos). Returns the photos indexed (0: none).
   */
  async warm(ids: readonly string[]): Promise<number> {
    for (const id of ids) {
      const [embedding] = await this.deps.catalog.embeddingsOf(id);
      if (embedding) return this.#vectors.warm(embedding.model);
    }
    return 0;
  }
}
