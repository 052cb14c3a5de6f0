import { useEffect, useState } from "preact/hooks";
import { ApiError, createAlbum, listAlbums } from "../api.js";
import { placeholderUrl, plural } from "../format.js";
import type { Album } from "../types.js";
import { PromptDialog } from "./Dialogs.js";
import { AlbumIcon, PlusIcon } from "./Icons.js";
import { Thumbnail } from "./Thumbnail.js";

interface AlbumsViewProps {
  onOpen: (album: Album) => void;
}

/** Every album as a card (cover, name, count); a new one starts empty, filled from the gallery's selection. */
export function AlbumsView({ onOpen }: AlbumsViewProps) {
  const [albums, setAlbums] = useState<Album[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);

  useEffect(() => {
    let cancelled = false;
    listAlbums().then(
      (list) => {
        if (!cancelled) setAlbums(list);
      },
      (reason: unknown) => {
        if (!cancelled) setError(reason instanceof ApiError ? reason.message : "Albums could not be loaded.");
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <div class="albums">
      <div class="results-heading">
        <div class="results-title">
          <h1 class="page-title">Albums</h1>
          {albums && albums.length > 0 && <p class="muted">{plural(albums.length, "album", "albums")}</p>}
        </div>
        <button type="button" class="button primary" onClick={() => setCreating(true)}>
          <PlusIcon size={18} />
          New album
        </button>
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {!albums && !error ? (
        <p class="muted loading-text" role="status">
          <span class="spinner small" aria-hidden="true" /> Loading albums…
        </p>
      ) : albums?.length === 0 ? (
        <div class="empty">
          <div class="empty-art" aria-hidden="true">
            <AlbumIcon size={40} />
          </div>
          <h2>No albums yet</h2>
          <p class="muted">
            Create one here, then choose <strong>Select</strong> in Photos to add photos to it. A search can
            be saved as a smart album too: search, then <strong>Save as smart album</strong>.
          </p>
        </div>
      ) : (
        // biome-ignore lint/a11y/noRedundantRoles: Safari drops list semantics from a ul styled list-style: none
        <ul class="album-grid" role="list" aria-label="Albums">
          {albums?.map((album) => (
            <AlbumCard key={album.id} album={album} onOpen={onOpen} />
          ))}
        </ul>
      )}
      {creating && (
        <PromptDialog
          title="New album"
          label="Name"
          submitLabel="Create album"
          onClose={() => setCreating(false)}
          onSubmit={async (name) => {
            onOpen(await createAlbum(name));
          }}
        />
      )}
    </div>
  );
}

function AlbumCard({ album, onOpen }: { album: Album; onOpen: (album: Album) => void }) {
  const cover = album.cover;
  const placeholder = cover ? placeholderUrl(cover.thumbhash) : null;
  return (
    <li class="album-card">
      <a
        href={`/albums/${encodeURIComponent(album.id)}`}
        class="album-link"
        onClick={(event) => {
          if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
          event.preventDefault();
          onOpen(album);
        }}
      >
        <span
          class="album-cover"
          style={placeholder ? { backgroundImage: `url("${placeholder}")` } : undefined}
          aria-hidden="true"
        >
          {cover ? <Thumbnail key={cover.thumbnails.small} photo={cover} /> : <AlbumIcon size={36} />}
        </span>
        <span class="album-name">{album.name}</span>
        <span class="album-meta muted">
          {plural(album.count, "photo", "photos")}
          {album.smart && <span class="badge">Smart</span>}
        </span>
      </a>
    </li>
  );
}
