import { useState } from "preact/hooks";
import { altFor } from "../format.js";
import type { Photo } from "../types.js";

/**
 * A photo's small thumbnail, loaded lazily and faded in once decoded over the thumbhash placeholder that its
 * container paints, so the grid never jumps. Key it by the thumbnail's URL to start over when it changes.
 */
export function Thumbnail({ photo }: { photo: Photo }) {
  const [loaded, setLoaded] = useState(false);
  return (
    <img
      src={photo.thumbnails.small}
      alt={altFor(photo)}
      loading="lazy"
      decoding="async"
      draggable={false}
      class={loaded ? "loaded" : undefined}
      onLoad={() => setLoaded(true)}
      ref={(img) => {
        // Already decoded (from the cache) before onLoad was attached.
        if (img?.complete && img.naturalWidth > 0 && !loaded) setLoaded(true);
      }}
    />
  );
}
