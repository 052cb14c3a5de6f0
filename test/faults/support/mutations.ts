import { seededRandom } from "./photos.js";

export const MUTATION_KINDS = [
  "truncated",
  "bit flips",
  "header bit flips",
  "swapped header",
  "zeroed block",
  "copied block",
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface Mutation {
  name: string;
  kind: MutationKind;
  bytes: Buffer;
}

/**
 * `count` damaged versions of valid files, the same for the same seed: truncation, random and header bit
 * flips, another format's header on this body, zeroed and copied blocks.
 */
export function mutations(
  bases: readonly { name: string; bytes: Buffer }[],
  count: number,
  seed: number,
): Mutation[] {
  const random = seededRandom(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const out: Mutation[] = [];
  for (let i = 0; i < count; i++) {
    const base = bases[i % bases.length]!;
    const kind = MUTATION_KINDS[Math.floor(i / bases.length) % MUTATION_KINDS.length]!;
    const source = base.bytes;
    let bytes: Buffer;
    switch (kind) {
      case "truncated":
        bytes = Buffer.from(source.subarray(0, int(1, source.length - 1)));
        break;
      case "bit flips":
      case "header bit flips": {
        bytes = Buffer.from(source);
        const span = kind === "header bit flips" ? Math.min(512, bytes.length) : bytes.length;
        for (let flips = int(1, 32); flips > 0; flips--) {
          const at = int(0, span - 1);
          bytes[at] = bytes[at]! ^ (1 << int(0, 7));
        }
        break;
      }
      case "swapped header": {
        const others = bases.filter((b) => b !== base);
        const other = others.length > 0 ? others[int(0, others.length - 1)]! : base;
        const cut = int(12, 64);
        bytes = Buffer.concat([other.bytes.subarray(0, cut), source.subarray(cut)]);
        break;
      }
      case "zeroed block": {
        bytes = Buffer.from(source);
        const start = int(0, bytes.length - 1);
        bytes.fill(0, start, Math.min(bytes.length, start + int(16, 4096)));
        break;
      }
      case "copied block": {
        bytes = Buffer.from(source);
        const length = int(16, Math.min(4096, Math.floor(bytes.length / 2)));
        const from = int(0, bytes.length - length);
        const to = int(0, bytes.length - length);
        source.copy(bytes, to, from, from + length);
        break;
      }
    }
    out.push({ name: `${String(i).padStart(4, "0")}-${kind.replace(/ /g, "-")}-${base.name}`, kind, bytes });
  }
  return out;
}
