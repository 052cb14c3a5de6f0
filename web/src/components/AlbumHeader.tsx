import { useState } from "preact/hooks";
import { deleteAlbum, updateAlbum } from "../api.js";
import { categoryLabel, plural } from "../format.js";
import type { Album } from "../types.js";
import { ConfirmDialog, PromptDialog } from "./Dialogs.js";
import { EditIcon, TrashIcon } from "./Icons.js";

interface AlbumHeaderProps {
  album: Album;
  onChanged: (album: Album) => void;
  onDeleted: (album: Album) => void;
  onBack: () => void;
}

/** A smart album's search in words: "Food · taken in Paris, France · “beach”". */
function describeSearch(filters: Album["filters"]): string {
  if (!filters) return "";
  const parts: string[] = [];
  if (filters.q) parts.push(`“${filters.q}”`);
  if (filters.category) parts.push(categoryLabel(filters.category));
  if (filters.place) parts.push(`taken in ${filters.place}`);
  if (filters.from) parts.push(`from ${filters.from}`);
  if (filters.to) parts.push(`to ${filters.to}`);
  if (filters.status) parts.push(filters.status);
  return parts.join(" · ");
}

/** The album's name, count and what can be done with it (rename, delete). */
export function AlbumHeader({ album, onChanged, onDeleted, onBack }: AlbumHeaderProps) {
  const [dialog, setDialog] = useState<"rename" | "delete" | null>(null);
  return (
    <div class="album-header">
      <a
        href="/albums"
        class="back-link"
        onClick={(event) => {
          if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
          event.preventDefault();
          onBack();
        }}
      >
        ← Albums
      </a>
      <div class="results-heading">
        <div class="results-title">
          <h1 class="page-title">{album.name}</h1>
          <p class="muted">
            {plural(album.count, "photo", "photos")}
            {album.smart && ` · smart album: ${describeSearch(album.filters)}`}
          </p>
        </div>
        <div class="album-actions">
          <button type="button" class="button small" onClick={() => setDialog("rename")}>
            <EditIcon size={16} />
            Rename
          </button>
          <button type="button" class="button small danger" onClick={() => setDialog("delete")}>
            <TrashIcon size={16} />
            Delete album
          </button>
        </div>
      </div>
      {dialog === "rename" && (
        <PromptDialog
          title="Rename album"
          label="Name"
          initial={album.name}
          submitLabel="Rename"
          onClose={() => setDialog(null)}
          onSubmit={async (name) => onChanged(await updateAlbum(album.id, { name }))}
        />
      )}
      {dialog === "delete" && (
        <ConfirmDialog
          title={`Delete the album “${album.name}”?`}
          text="The album goes; its photos stay in your library."
          confirmLabel="Delete album"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await deleteAlbum(album.id);
            onDeleted(album);
          }}
        />
      )}
    </div>
  );
}
