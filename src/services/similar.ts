import { PhotocatError } from "../domain/errors.js";
import type { ImageRecord } from "../domain/image.js";
import type { Catalog, EmbeddingChange } from "../ports/catalog.js";

export type SimilarDeps = {
  catalog: Pick<
    Catalog,
    "getImage" | "getImages" | "embeddingsOf" | "changedEmbeddings" | "embeddingVectors"
  >;
};

export interface SimilarPhoto {
  image: ImageRecord;
  /** Cosine similarity of the two embeddings, -1..1. */
  similarity: number;
}

export const MAX_SIMILAR = 100;
/**
 * The index keeps a sketch of each embedding: SKETCH_SIZE values, each input value added (with a sign) to
 * SKETCH_SPREAD of them (a sparse random projection). Cosines of sketches rank the whole catalogue in a few
 * milliseconds at 100,000 photos; the best CANDIDATES are then ranked again on their full embeddings.
 */
const SKETCH_SIZE = 128;
const SKETCH_SPREAD = 4;
const CANDIDATES = 200;
/** Embeddings written this long before the last one seen are read again: writers' clocks and commits lag. */
const CHANGE_LAG_MS = 10_000;
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

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** The sketches of one embedding model's vectors, by photo; loaded on first use, then kept in step. */
class SketchIndex {
  #ids: string[] = [];
  #slotOf = new Map<string, number>();
  #sketches = new Float32Array(1024 * SKETCH_SIZE);
  #plan: ReturnType<typeof sketchPlan> | null = null;
  #seen: EmbeddingChange | null = null;
  #refreshing: Promise<void> | null = null;

  constructor(
    private readonly model: string,
    private readonly catalog: SimilarDeps["catalog"],
  ) {}

  get size(): number {
    return this.#ids.length;
  }

  /** Reads the embeddings written since the last look (all of them the first time). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#readChanges().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #readChanges(): Promise<void> {
    let since: EmbeddingChange | null = this.#seen
      ? { changedMs: this.#seen.changedMs - CHANGE_LAG_MS, imageId: "" }
      : null;
    for (;;) {
      const changes = await this.catalog.changedEmbeddings(this.model, since, LOAD_PAGE);
      for (const change of changes) this.#put(change.imageId, change.vector);
      const last = changes.at(-1);
      if (last && (!this.#seen || last.changedMs >= this.#seen.changedMs)) this.#seen = last;
      if (changes.length < LOAD_PAGE || !last) return;
      since = last;
    }
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
  }

  /** The `count` photos whose sketches are nearest `query`'s, nearest first (`exclude` left out). */
  nearest(query: Float32Array, count: number, exclude: string): string[] {
    const sketch = this.sketch(query);
    // A min-heap of the best scores so far.
    const heapScores = new Float32Array(count);
    const heapSlots = new Int32Array(count);
    let filled = 0;
    const sketches = this.#sketches;
    const skip = this.#slotOf.get(exclude) ?? -1;
    for (let slot = 0; slot < this.#ids.length; slot++) {
      if (slot === skip) continue;
      let score = 0;
      const base = slot * SKETCH_SIZE;
      for (let j = 0; j < SKETCH_SIZE; j++) score += sketch[j]! * sketches[base + j]!;
      if (filled < count) {
        let at = filled++;
        while (at > 0) {
          const parent = (at - 1) >> 1;
          if (heapScores[parent]! <= score) break;
          heapScores[at] = heapScores[parent]!;
          heapSlots[at] = heapSlots[parent]!;
          at = parent;
        }
        heapScores[at] = score;
        heapSlots[at] = slot;
      } else if (score > heapScores[0]!) {
        let at = 0;
        for (;;) {
          const left = 2 * at + 1;
          if (left >= count) break;
          const right = left + 1;
          const child = right < count && heapScores[right]! < heapScores[left]! ? right : left;
          if (heapScores[child]! >= score) break;
          heapScores[at] = heapScores[child]!;
          heapSlots[at] = heapSlots[child]!;
          at = child;
        }
        heapScores[at] = score;
        heapSlots[at] = slot;
      }
    }
    return [...heapSlots.subarray(0, filled)]
      .map((slot, i) => ({ slot, score: heapScores[i]! }))
      .sort((a, b) => b.score - a.score)
      .map(({ slot }) => this.#ids[slot]!);
  }
}

/**
 * "More like this": the photos whose stored embedding (the local analyser's, or whichever model the photo
 * has) is nearest, by cosine, from an in-memory index per model that loads on first use and reads only
 * what changed on each later call, so every process serving the catalogue keeps in step with the others.
 */
export class SimilarPhotos {
  readonly #indexes = new Map<string, SketchIndex>();

  constructor(private readonly deps: SimilarDeps) {}

  async similar(id: string, limit: number): Promise<SimilarPhoto[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new PhotocatError("invalid_request", "limit must be a whole number of at least 1");
    }
    const wanted = Math.min(limit, MAX_SIMILAR);
    const { catalog } = this.deps;
    const image = await catalog.getImage(id);
    if (!image) throw new PhotocatError("not_found", `no photo with id ${id}`);
    const [embedding] = await catalog.embeddingsOf(id);
    if (!embedding) {
      throw new PhotocatError(
        "conflict",
        `the photo ${id} has no embedding yet (status ${image.status}): similar photos are found once ` +
          "the local analyser has described it (photocat reanalyse)",
      );
    }
    const index = this.#index(embedding.model);
    await index.refresh();
    const candidates = index.nearest(embedding.vector, Math.max(CANDIDATES, wanted * 4), id);
    const vectors = await catalog.embeddingVectors(embedding.model, candidates);
    const ranked = candidates
      .flatMap((other) => {
        const vector = vectors.get(other);
        return vector ? [{ id: other, similarity: cosine(embedding.vector, vector) }] : [];
      })
      .sort((a, b) => b.similarity - a.similarity);
    // Deleted photos may linger in the index, and trashed ones stay there: both are left out here.
    const shown: SimilarPhoto[] = [];
    for (let start = 0; start < ranked.length && shown.length < wanted; start += wanted * 2) {
      const part = ranked.slice(start, start + wanted * 2);
      const records = new Map((await catalog.getImages(part.map((r) => r.id))).map((r) => [r.id, r]));
      for (const { id: other, similarity } of part) {
        const record = records.get(other);
        if (record && !record.trashedAt && shown.length < wanted) shown.push({ image: record, similarity });
      }
    }
    return shown;
  }

  #index(model: string): SketchIndex {
    let index = this.#indexes.get(model);
    if (!index) {
      index = new SketchIndex(model, this.deps.catalog);
      this.#indexes.set(model, index);
    }
    return index;
  }
}
