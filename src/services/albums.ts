import { randomUUID } from "node:crypto";
import { cleanText } from "../domain/analysis.js";
import { PhotocatError } from "../domain/errors.js";
import type { Taxonomy } from "../domain/taxonomy.js";
import type { AlbumRecord, AlbumSummary, Catalog } from "../ports/catalog.js";
import { type BulkOutcome, checkFilters, idErrors } from "./gallery.js";

export interface AlbumDeps {
  catalog: Catalog;
}

export const MAX_ALBUM_NAME_CHARS = 100;

export type SavedSearch = NonNullable<AlbumRecord["filters"]>;

/** Albums: chosen photos, or a saved search (smart album). Trashed photos neither count nor show. */
export class AlbumService {
  constructor(
    private readonly deps: AlbumDeps,
    private readonly taxonomy: Taxonomy,
  ) {}

  list(): Promise<AlbumSummary[]> {
    return this.deps.catalog.listAlbums();
  }

  async get(id: string): Promise<AlbumSummary> {
    const album = await this.deps.catalog.getAlbum(id);
    if (!album) throw new PhotocatError("not_found", `no album with id ${id}`);
    return album;
  }

  /** An album of chosen photos, or with `filters` a smart album showing what that search finds. */
  async create(name: string, filters: SavedSearch | null = null): Promise<AlbumSummary> {
    const saved = filters ? await this.#checkSearch(filters) : null;
    return this.deps.catalog.createAlbum({ id: randomUUID(), name: albumName(name), filters: saved });
  }

  /** Renames, chooses the cover (null: the newest photo) or, for a smart album, replaces its search. */
  async update(
    id: string,
    change: { name?: string; coverId?: string | null; filters?: SavedSearch },
  ): Promise<AlbumSummary> {
    const album = await this.get(id);
    if (change.filters !== undefined && !album.filters) {
      throw new PhotocatError(
        "invalid_request",
        "only a smart album has a search: this album holds chosen photos",
      );
    }
    const updated = await this.deps.catalog.updateAlbum(id, {
      ...(change.name !== undefined ? { name: albumName(change.name) } : {}),
      ...(change.coverId !== undefined ? { coverId: change.coverId?.toLowerCase() ?? null } : {}),
      ...(change.filters !== undefined ? { filters: await this.#checkSearch(change.filters) } : {}),
    });
    if (!updated) throw new PhotocatError("not_found", `no album with id ${id}`);
    return updated;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.deps.catalog.deleteAlbum(id))) {
      throw new PhotocatError("not_found", `no album with id ${id}`);
    }
  }

  /** Adds photos; unknown ids and photos in the trash are reported one by one. */
  add(id: string, imageIds: readonly string[]) {
    return this.#change(id, imageIds, "addToAlbum");
  }

  /** Takes photos out of the album (they stay in the library). */
  remove(id: string, imageIds: readonly string[]) {
    return this.#change(id, imageIds, "removeFromAlbum");
  }

  /** An album by its id, a unique prefix of it (4 or more characters) or its exact name (any case). */
  async resolve(idPrefixOrName: string): Promise<AlbumSummary> {
    const wanted = idPrefixOrName.trim();
    const albums = await this.list();
    const lower = wanted.toLowerCase();
    const byName = albums.filter((a) => a.name.toLowerCase() === lower);
    const byId = lower.length >= 4 ? albums.filter((a) => a.id.startsWith(lower)) : [];
    const found = [...new Set([...byName, ...byId])];
    if (found.length === 1) return found[0]!;
    if (found.length === 0)
      throw new PhotocatError("not_found", `no album is named or has an id starting with "${wanted}"`);
    throw new PhotocatError(
      "invalid_request",
      `"${wanted}" matches ${found.length} albums (${found
        .slice(0, 3)
        .map((a) => `${a.id.slice(0, 8)} ${a.name}`)
        .join(", ")}): give more of the id`,
    );
  }

  async #change(
    id: string,
    imageIds: readonly string[],
    kind: "addToAlbum" | "removeFromAlbum",
  ): Promise<BulkOutcome & { album: AlbumSummary }> {
    const wanted = [...new Set(imageIds.map((i) => i.trim().toLowerCase()))];
    const outcome = await this.deps.catalog.changeImages(wanted, { kind, albumId: id });
    return { album: await this.get(id), images: outcome.changed, errors: idErrors(outcome) };
  }

  async #checkSearch(filters: SavedSearch): Promise<SavedSearch> {
    const saved = Object.fromEntries(
      Object.entries(filters).flatMap(([k, v]) => (typeof v === "string" && v.trim() ? [[k, v.trim()]] : [])),
    ) as SavedSearch;
    if (Object.keys(saved).length === 0) {
      throw new PhotocatError(
        "invalid_request",
        "a smart album needs a search: give q, category, status, from, to or place",
      );
    }
    await checkFilters(this.deps.catalog, this.taxonomy, saved);
    // Dates and statuses are checked where the catalogue reads them: one page proves the search runs.
    await this.deps.catalog.listImages({ ...saved, limit: 1 });
    return saved;
  }
}

function albumName(name: string): string {
  const cleaned = cleanText(name.replace(/\s+/g, " "), MAX_ALBUM_NAME_CHARS).trim();
  if (!cleaned) throw new PhotocatError("invalid_request", "name must not be empty");
  return cleaned;
}
