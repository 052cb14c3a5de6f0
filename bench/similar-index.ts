/**
 * The similar-photo index alone, in one process: `npx tsx bench/similar-index.ts [photos] [kinds]`. Clustered
 * 720-value embeddings like the local analyser's; prints the load time, time per query and recall of the
 * 12 nearest against an exact scan.
 */
import type { ImageRecord } from "../src/domain/image.js";
import type { EmbeddingChange } from "../src/ports/catalog.js";
import { SimilarPhotos } from "../src/services/similar.js";
import { seededRandom } from "../test/faults/support/photos.js";

const photos = Number(process.argv[2] ?? 100_000);
const kinds = Number(process.argv[3] ?? 200);
const SIZE = 720;
const random = seededRandom(7);
const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
const centres = Array.from({ length: kinds }, () => Float32Array.from({ length: SIZE }, gauss));
const ids = Array.from({ length: photos }, (_, i) => `p${String(i).padStart(7, "0")}`);
const vectors = ids.map(() => {
  const centre = centres[Math.floor(random() * kinds)]!;
  return Float32Array.from(centre, (v) => v + 1.5 * gauss());
});
const byId = new Map(ids.map((id, i) => [id, vectors[i]!]));

const catalog = {
  getImage: async (id: string) => ({ id, status: "done" }) as ImageRecord,
  getImages: async (wanted: readonly string[]) => wanted.map((id) => ({ id }) as ImageRecord),
  embeddingsOf: async (id: string) => [{ model: "m", vector: byId.get(id)! }],
  changedEmbeddings: async (_model: string, since: EmbeddingChange | null, limit: number) => {
    // One embedding a minute: (changedMs, imageId) grow together.
    const from = since ? Math.max(0, Math.floor(since.changedMs / 60_000) + (since.imageId ? 1 : 0)) : 0;
    return ids.slice(from, from + limit).map((imageId, i) => ({
      imageId,
      changedMs: (from + i) * 60_000,
      vector: byId.get(imageId)!,
    }));
  },
};

function cosine(a: Float32Array, b: Float32Array) {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return d / Math.sqrt(na * nb);
}

const similar = new SimilarPhotos({ catalog });
let started = performance.now();
await similar.similar(ids[0]!, 12);
console.log(`load ${photos} embeddings + first query: ${Math.round(performance.now() - started)} ms`);
const queries = 50;
let found = 0;
let total = 0;
const times: number[] = [];
for (let q = 0; q < queries; q++) {
  const id = ids[Math.floor(random() * photos)]!;
  started = performance.now();
  const got = await similar.similar(id, 12);
  times.push(performance.now() - started);
  const exact = ids
    .filter((other) => other !== id)
    .map((other) => ({ other, score: cosine(byId.get(id)!, byId.get(other)!) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, 12)
    .map((r) => r.other);
  found += got.filter((g) => exact.includes(g.image.id)).length;
  total += 12;
}
times.sort((a, b) => a - b);
console.log(
  `query p50 ${times[Math.floor(queries / 2)]!.toFixed(1)} ms, p95 ${times[Math.floor(queries * 0.95)]!.toFixed(1)} ms; recall@12 ${(found / total).toFixed(3)}`,
);
