import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { isPhotocatError } from "../domain/errors.js";
import type { ImageRecord } from "../domain/image.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { MetadataWriter } from "../ports/metadata-writer.js";
import { writeEmbeddedCopy, xmpSidecar } from "./file-metadata.js";
import { cleanOriginalName } from "./ingest.js";
import { originalKey } from "./storage-keys.js";

export interface ExportOptions {
  /** Write `name.xmp` beside each file. */
  sidecars: boolean;
  /** Write the description into each copy (XMP, IPTC, EXIF); formats that cannot carry it get a sidecar. */
  embed: boolean;
}

export interface ExportDeps {
  blobs: BlobStore;
  writer: MetadataWriter;
}

/** Where a folder export remembers which photo went to which file, so that a second run resumes it. */
export const EXPORT_MANIFEST = ".photocat-export.jsonl";

/**
 * A file name safe on every system: no folders, no characters Windows or shells treat specially, no
 * leading dot (hidden) or trailing dot or space, at most 150 characters.
 */
export function safeFileName(name: string): string {
  const cleaned = cleanOriginalName(name)
    .replace(/[<>:"/\\|?*]/g, "_") // control characters are gone already
    .replace(/^[.\s]+/, "_")
    .replace(/[.\s]+$/, "");
  const { name: stem, ext } = path.parse(cleaned || "photo");
  const base = /^(con|prn|aux|nul|com\d|lpt\d)$/i.test(stem) ? `${stem}_` : stem;
  return `${base.slice(0, 150 - ext.length) || "photo"}${ext.slice(0, 16)}`;
}

/**
 * Copies originals into a folder under their own names (deduplicated: "name (2).jpg"; name.xmp sidecars never
 * collide either), optionally with the description embedded or in sidecars. Resumable: a manifest in the
 * folder names each photo's file, and photos already written are skipped. Files appear whole or not at all.
 */
export class OriginalsExport {
  private readonly names = new Map<string, string>();
  private readonly stemsTaken = new Set<string>();
  private readonly manifest: string;

  private constructor(
    private readonly deps: ExportDeps,
    private readonly folder: string,
    private readonly options: ExportOptions,
  ) {
    this.manifest = path.join(folder, EXPORT_MANIFEST);
  }

  static async open(deps: ExportDeps, folder: string, options: ExportOptions): Promise<OriginalsExport> {
    await mkdir(folder, { recursive: true });
    const exporter = new OriginalsExport(deps, folder, options);
    const lines = await readFile(exporter.manifest, "utf8").catch(() => "");
    for (const line of lines.split("\n")) {
      try {
        const entry = JSON.parse(line) as { id?: unknown; file?: unknown };
        if (typeof entry.id === "string" && typeof entry.file === "string")
          exporter.claim(entry.id, entry.file);
      } catch {
        // A line cut by a crash: its photo is exported again.
      }
    }
    return exporter;
  }

  private claim(id: string, file: string): void {
    this.names.set(id, file);
    this.stemsTaken.add(path.parse(file).name.toLowerCase());
  }

  /** The file name for a photo: the one given before, else its own name made unique. */
  private async nameFor(image: ImageRecord): Promise<{ file: string; known: boolean }> {
    const known = this.names.get(image.id);
    if (known) return { file: known, known: true };
    const { name: stem, ext } = path.parse(safeFileName(image.originalName));
    let candidate = stem;
    for (let n = 2; this.stemsTaken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})`;
    const file = `${candidate}${ext}`;
    this.claim(image.id, file);
    await appendFile(this.manifest, `${JSON.stringify({ id: image.id, file })}\n`);
    return { file, known: false };
  }

  /** Writes one photo; "skipped" when a previous run wrote it already. Returns notes for the user. */
  async write(image: ImageRecord): Promise<{ file: string; skipped: boolean; notes: string[] }> {
    const { file, known } = await this.nameFor(image);
    const target = path.join(this.folder, file);
    const sidecar = path.join(this.folder, `${path.parse(file).name}.xmp`);
    const wantSidecar = this.options.sidecars;
    if (known && existsSync(target) && (!wantSidecar || existsSync(sidecar))) {
      return { file, skipped: true, notes: [] };
    }
    const notes: string[] = [];
    const partial = `${target}.part`;
    let needsSidecar = wantSidecar;
    try {
      if (this.options.embed) {
        try {
          await writeEmbeddedCopy(this.deps, image, partial);
        } catch (error) {
          if (!isPhotocatError(error) || error.code !== "cannot_embed") throw error;
          notes.push(`${file}: ${error.message}; a sidecar was written instead`);
          needsSidecar = true;
          await writeFile(partial, await this.deps.blobs.get(originalKey(image.id, image.mediaType)));
        }
      } else {
        await writeFile(partial, await this.deps.blobs.get(originalKey(image.id, image.mediaType)));
      }
      await rename(partial, target);
    } finally {
      await rm(partial, { force: true });
    }
    if (needsSidecar) {
      await writeFile(`${sidecar}.part`, xmpSidecar(image));
      await rename(`${sidecar}.part`, sidecar);
    }
    return { file, skipped: false, notes };
  }
}
