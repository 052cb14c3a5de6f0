import { memo } from "preact/compat";
import { categoryColour, categoryLabel, isPending, placeholderUrl } from "../format.js";
import type { Photo } from "../types.js";
import { AlertIcon, CheckIcon, RefreshIcon } from "./Icons.js";
import { Thumbnail } from "./Thumbnail.js";

interface PhotoCardProps {
  photo: Photo;
  position: number;
  setSize: number;
  onOpen: (id: string) => void;
  onRetry: (id: string) => void;
  /** Selection mode: a click selects (shift-click: a range) instead of opening. */
  selecting: boolean;
  selected: boolean;
  onSelect: (id: string, range: boolean) => void;
}

export function CategoryChip({ slug }: { slug: string | null }) {
  return (
    <span class="chip" style={{ "--cat": categoryColour(slug) }}>
      <span class="chip-dot" aria-hidden="true" />
      {categoryLabel(slug)}
    </span>
  );
}

function PhotoCardView(props: PhotoCardProps) {
  const { photo, position, setSize, onOpen, onRetry, selecting, selected, onSelect } = props;
  const placeholder = placeholderUrl(photo.thumbhash);
  const pending = isPending(photo);

  return (
    <li class={`card${selected ? " selected" : ""}`} aria-posinset={position} aria-setsize={setSize}>
      <button
        type="button"
        class={`card-media${selecting ? " selecting" : ""}`}
        data-photo-id={photo.id}
        aria-pressed={selecting ? selected : undefined}
        onClick={(event) => {
          // A shift-click also starts selecting, from the photo clicked.
          if (selecting || event.shiftKey) onSelect(photo.id, event.shiftKey);
          else onOpen(photo.id);
        }}
        style={placeholder ? { backgroundImage: `url("${placeholder}")` } : undefined}
      >
        <Thumbnail key={photo.thumbnails.small} photo={photo} />
        {selecting && (
          <span class="card-check" aria-hidden="true">
            {selected && <CheckIcon size={16} />}
          </span>
        )}
        {pending && (
          <span class="card-badge" aria-hidden="true">
            <span class="spinner" />
          </span>
        )}
      </button>
      <div class="card-caption">
        {pending ? (
          <p class="card-summary muted">
            <span class="describing">Describing…</span>
          </p>
        ) : photo.status === "failed" ? (
          <>
            <p class="card-summary card-error">
              <AlertIcon size={16} />
              <span>{photo.error || "The description failed."}</span>
            </p>
            <button
              type="button"
              class="button small"
              onClick={() => onRetry(photo.id)}
              aria-label={`Retry describing ${photo.original_name}`}
            >
              <RefreshIcon size={16} />
              Retry
            </button>
          </>
        ) : (
          <>
            <p class="card-summary">{photo.summary || photo.original_name}</p>
            <CategoryChip slug={photo.category} />
          </>
        )}
      </div>
    </li>
  );
}

export const PhotoCard = memo(PhotoCardView);
