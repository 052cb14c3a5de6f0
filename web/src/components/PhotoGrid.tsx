import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Photo } from "../types.js";
import { PhotoCard } from "./PhotoCard.js";

interface PhotoGridProps {
  items: Photo[];
  hasMore: boolean;
  loading: boolean;
  onLoadMore: () => void;
  onOpen: (id: string) => void;
  onRetry: (id: string) => void;
  /** After the dialog closes: bring this photo's card into view and focus it. */
  focusId: string | null;
  onFocused: () => void;
  selecting: boolean;
  selected: ReadonlySet<string>;
  onSelect: (id: string, range: boolean) => void;
}

interface Layout {
  columns: number;
  rowHeight: number;
  gap: number;
}

const CAPTION_HEIGHT = 76;
const OVERSCAN_ROWS = 3;

function layoutFor(width: number): Layout {
  const gap = width < 560 ? 8 : 16;
  const minTile = width < 560 ? 150 : width < 1100 ? 190 : 220;
  const columns = Math.max(2, Math.floor((width + gap) / (minTile + gap)));
  const tile = (width - gap * (columns - 1)) / columns;
  return { columns, gap, rowHeight: Math.round(tile + CAPTION_HEIGHT + gap) };
}

/**
 * A windowed grid: only the rows near the viewport are in the DOM, so 100,000 photos cost the same as 100.
 * Rows have a fixed height, so positions are arithmetic and nothing jumps when images arrive.
 */
export function PhotoGrid(props: PhotoGridProps) {
  const { items, hasMore, loading, onLoadMore, focusId, onFocused } = props;
  const listRef = useRef<HTMLUListElement>(null);
  const [width, setWidth] = useState(0);
  const [viewport, setViewport] = useState({ top: 0, height: window.innerHeight });

  const measure = useCallback(() => {
    const list = listRef.current;
    if (!list) return;
    const rect = list.getBoundingClientRect();
    setViewport({ top: -rect.top, height: window.innerHeight });
  }, []);

  useLayoutEffect(() => {
    const list = listRef.current;
    if (!list) return;
    const observer = new ResizeObserver((entries) => {
      const entry = entries[0];
      if (entry) setWidth(entry.contentRect.width);
    });
    observer.observe(list);
    setWidth(list.clientWidth);
    let frame = 0;
    const onScroll = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        measure();
      });
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("resize", onScroll);
    measure();
    return () => {
      observer.disconnect();
      window.removeEventListener("scroll", onScroll);
      window.removeEventListener("resize", onScroll);
      cancelAnimationFrame(frame);
    };
  }, [measure]);

  const layout = layoutFor(width || 800);
  const totalRows = Math.ceil(items.length / layout.columns);
  const firstRow = Math.max(0, Math.floor(viewport.top / layout.rowHeight) - OVERSCAN_ROWS);
  const lastRow = Math.min(
    totalRows - 1,
    Math.ceil((viewport.top + viewport.height) / layout.rowHeight) + OVERSCAN_ROWS,
  );
  const start = firstRow * layout.columns;
  const end = Math.min(items.length, (lastRow + 1) * layout.columns);
  const visible = items.slice(start, end);
  const screensLeft = (totalRows * layout.rowHeight - (viewport.top + viewport.height)) / viewport.height;

  useEffect(() => {
    if (hasMore && !loading && screensLeft < 2) onLoadMore();
  }, [hasMore, loading, screensLeft, onLoadMore]);

  // Return focus to the card of the photo that was open, scrolling it into the window first if needed.
  useEffect(() => {
    if (!focusId) return;
    const index = items.findIndex((p) => p.id === focusId);
    const list = listRef.current;
    if (index === -1 || !list) {
      onFocused();
      return;
    }
    const button = list.querySelector<HTMLButtonElement>(`[data-photo-id="${CSS.escape(focusId)}"]`);
    if (button) {
      button.focus({ preventScroll: true });
      button.scrollIntoView({ block: "nearest" });
      onFocused();
      return;
    }
    const row = Math.floor(index / layout.columns);
    const listTop = list.getBoundingClientRect().top + window.scrollY;
    window.scrollTo({ top: listTop + row * layout.rowHeight - window.innerHeight / 3 });
    measure();
  }, [focusId, items, layout.columns, layout.rowHeight, measure, onFocused]);

  // Arrow keys move between cards as in a photo grid; the next row is always rendered (overscan).
  const onKeyDown = (event: KeyboardEvent) => {
    const target = event.target;
    if (!(target instanceof HTMLElement) || !target.dataset.photoId) return;
    const step: Record<string, number> = {
      ArrowLeft: -1,
      ArrowRight: 1,
      ArrowUp: -layout.columns,
      ArrowDown: layout.columns,
    };
    const delta = step[event.key];
    if (delta === undefined || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const index = items.findIndex((p) => p.id === target.dataset.photoId);
    const next = items[Math.min(items.length - 1, Math.max(0, index + delta))];
    if (index === -1 || !next) return;
    event.preventDefault();
    listRef.current?.querySelector<HTMLElement>(`[data-photo-id="${CSS.escape(next.id)}"]`)?.focus();
  };

  const setSize = hasMore ? -1 : items.length;
  return (
    <ul
      ref={listRef}
      class="grid"
      // biome-ignore lint/a11y/noRedundantRoles: Safari drops list semantics from a ul styled list-style: none
      role="list"
      aria-label="Photos"
      aria-busy={loading}
      onKeyDown={onKeyDown}
      style={{
        "--columns": layout.columns,
        "--row-height": `${layout.rowHeight - layout.gap}px`,
        "--gap": `${layout.gap}px`,
        paddingTop: `${firstRow * layout.rowHeight}px`,
        height: `${Math.max(0, totalRows * layout.rowHeight - layout.gap)}px`,
      }}
    >
      {visible.map((photo, offset) => (
        <PhotoCard
          key={photo.id}
          photo={photo}
          position={start + offset + 1}
          setSize={setSize}
          onOpen={props.onOpen}
          onRetry={props.onRetry}
          selecting={props.selecting}
          selected={props.selected.has(photo.id)}
          onSelect={props.onSelect}
        />
      ))}
    </ul>
  );
}
