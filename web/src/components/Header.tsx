import { useEffect, useRef, useState } from "preact/hooks";
import { formatCount, plural } from "../format.js";
import type { View } from "../hooks/useRoute.js";
import {
  AlbumIcon,
  ChartIcon,
  CopiesIcon,
  Logo,
  LogoutIcon,
  MapIcon,
  PhotosIcon,
  SearchIcon,
  TrashIcon,
  UploadIcon,
} from "./Icons.js";

interface HeaderProps {
  view: View;
  query: string;
  onQuery: (query: string) => void;
  onNavigate: (view: View) => void;
  onFiles: (files: File[]) => void;
  onSignOut: (() => void) | null;
  /** How many photos are in the trash (`more`: at least that many); null until known. */
  trashCount: { count: number; more: boolean } | null;
}

const SEARCH_DEBOUNCE_MS = 300;
// Browsers give many RAW files no image/* type: their extensions are listed too.
export const ACCEPT =
  "image/*,.heic,.heif,.avif,.tif,.tiff,.bmp,.dng,.cr2,.cr3,.nef,.nrw,.arw,.raf,.orf,.rw2";

export function Header({ view, query, onQuery, onNavigate, onFiles, onSignOut, trashCount }: HeaderProps) {
  const [text, setText] = useState(query);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastSent = useRef(query);

  // Back/forward or a chip may change the query from outside: show it, unless the person is mid-typing.
  useEffect(() => {
    if (query !== lastSent.current) {
      lastSent.current = query;
      setText(query);
    }
  }, [query]);

  useEffect(() => () => clearTimeout(timer.current), []);

  const send = (value: string) => {
    clearTimeout(timer.current);
    lastSent.current = value.trim();
    onQuery(value.trim());
  };

  const link = (target: View, label: string, icon: preact.JSX.Element, badge?: preact.JSX.Element) => (
    <a
      href={target === "gallery" ? "/" : `/${target}`}
      class={`nav-link${view === target ? " active" : ""}`}
      title={label}
      aria-current={view === target ? "page" : undefined}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        onNavigate(target);
      }}
    >
      {icon}
      <span class="nav-label">{label}</span>
      {badge}
    </a>
  );
  const trashBadge =
    trashCount && trashCount.count > 0 ? (
      <>
        <span class="nav-count" aria-hidden="true">
          {formatCount(trashCount.count)}
          {trashCount.more ? "+" : ""}
        </span>
        <span class="visually-hidden">
          {`(${plural(trashCount.count, "photo", "photos", trashCount.more ? "+" : "")})`}
        </span>
      </>
    ) : undefined;

  return (
    <header class="app-header">
      <a
        class="brand"
        href="/"
        onClick={(event) => {
          event.preventDefault();
          onNavigate("gallery");
        }}
      >
        <Logo />
        <span class="brand-name">Photocat</span>
      </a>
      {/* biome-ignore lint/a11y/useSemanticElements: a form with role=search is the landmark screen readers know */}
      <form
        class="search"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          send(text);
        }}
      >
        <SearchIcon size={18} />
        <input
          type="search"
          aria-label="Search photos"
          placeholder="Search your photos"
          value={text}
          maxLength={200}
          onInput={(event) => {
            const value = event.currentTarget.value;
            setText(value);
            clearTimeout(timer.current);
            timer.current = setTimeout(() => send(value), SEARCH_DEBOUNCE_MS);
          }}
        />
      </form>
      <nav class="nav" aria-label="Main">
        {link("gallery", "Photos", <PhotosIcon />)}
        {link("albums", "Albums", <AlbumIcon />)}
        {link("map", "Map", <MapIcon />)}
        {link("duplicates", "Duplicates", <CopiesIcon />)}
        {link("stats", "Statistics", <ChartIcon />)}
        {link("trash", "Trash", <TrashIcon />, trashBadge)}
      </nav>
      <div class="upload-control">
        <input
          id="upload-input"
          class="visually-hidden"
          type="file"
          multiple
          accept={ACCEPT}
          onChange={(event) => {
            const input = event.currentTarget;
            if (input.files) onFiles(Array.from(input.files));
            input.value = "";
          }}
        />
        <label for="upload-input" class="button primary">
          <UploadIcon size={18} />
          <span class="upload-label">Upload photos</span>
        </label>
      </div>
      {onSignOut && (
        <button type="button" class="icon-button" onClick={onSignOut} aria-label="Sign out" title="Sign out">
          <LogoutIcon />
        </button>
      )}
    </header>
  );
}
