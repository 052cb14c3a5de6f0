/** The description Photocat writes into photo files and sidecars (see services/file-metadata.ts). */
export interface FileDescription {
  title: string | null;
  description: string | null;
  /** The tags and the category. */
  keywords: string[];
  /** lr:hierarchicalSubject, e.g. "Photocat|animals". */
  hierarchicalSubjects: string[];
  altText: string | null;
  /** The text visible in the photo (Iptc4xmpCore:ExtDescrAccessibility). */
  visibleText: string | null;
}

/**
 * Writes a description into a copy of a photo file: XMP, IPTC and EXIF, leaving capture date, GPS and
 * orientation as they are. Implementations: ExifTool (needs perl).
 */
export interface MetadataWriter {
  readonly kind: string;
  /**
   * Rewrites the file at `file` (a copy: never a stored original) in place. Throws PhotocatError
   * `writer_unavailable` when the writer cannot run here, `cannot_embed` when the format cannot carry it.
   */
  embed(file: string, mediaType: string, description: FileDescription): Promise<void>;
  close(): Promise<void>;
}
