import type { Generated } from "kysely";

/**
 * The tables both SQL stores share. Timestamps of photos are ISO-8601 UTC text in both dialects, so
 * cursors and comparisons are the same code; queue times are epoch milliseconds taken from the database
 * clock where there is one (PostgreSQL), so many machines agree on leases.
 */
export interface ImagesTable {
  id: string;
  sha256: string;
  status: string;
  original_name: string;
  media_type: string;
  byte_size: number;
  width: number;
  height: number;
  taken_at: string | null;
  /** Capture time normalised to UTC ISO, or the upload time when unknown: what from/to filter on. */
  captured_at: string;
  camera_make: string | null;
  camera_model: string | null;
  lens: string | null;
  gps_lat: number | null;
  gps_lon: number | null;
  gps_alt: number | null;
  orientation: number | null;
  place: string | null;
  thumbhash: string | null;
  /** HASH_WINDOWS perceptual hashes in hex (src/domain/near-duplicates.ts); null when flat or not computed. */
  perceptual_hash: string | null;
  /** Laplacian variance of the preview; null until computed (photos stored before it). */
  sharpness: number | null;
  created_at: string;
  updated_at: string;
  /** Set while the photo is in the trash (its files are kept until the trash is emptied). */
  trashed_at: string | null;
  error: string | null;
  // The latest analysis.
  summary: string | null;
  category: string | null;
  /** JSON array of strings. */
  tags: string | null;
  alt_text: string | null;
  text: string | null;
  confidence: number | null;
  /** JSON object. */
  extras: string | null;
  provider: string | null;
  model: string | null;
  prompt_version: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  ms: number | null;
  analysed_at: string | null;
  analysis_job_id: string | null;
  /** What every analysis of this photo cost together (re-analyses add up). */
  spent_input_tokens: Generated<number>;
  spent_output_tokens: Generated<number>;
  spent_cost_usd: Generated<number>;
  // Human edits, apart so that re-analysis never overwrites them.
  edit_summary: string | null;
  edit_category: string | null;
  edit_tags: string | null;
  edit_alt_text: string | null;
  edited_at: string | null;
  // The words the photo came with (its metadata or sidecar), apart from analysis and edits.
  own_title: string | null;
  own_description: string | null;
  /** JSON array of strings. */
  own_keywords: string | null;
  own_alt_text: string | null;
  /** JSON array: where the words were found ("xmp", "iptc", "exif", "xmp sidecar", "takeout"). */
  own_sources: string | null;
  /** JSON array of notes on metadata that could not be read. */
  metadata_notes: string | null;
  /** Generated: coalesce(edit_category, category). */
  category_effective: Generated<string | null>;
}

export interface EmbeddingsTable {
  image_id: string;
  model: string;
  /** Float32 little-endian values. */
  vector: Uint8Array;
  /** When it was last written, epoch milliseconds by the database clock. */
  changed_ms: Generated<number>;
  /** What computing it cost, summed over the photo's embeddings of this model (0 for a local model). */
  input_tokens: Generated<number>;
  cost_usd: Generated<number>;
}

export interface JobsTable {
  id: string;
  /** A key of JOB_KINDS. */
  kind: string;
  /** JSON, checked against the kind's schema on the way in and out. */
  payload: string;
  /** At most one queued or running job per key (one pending analysis per photo). */
  dedupe_key: string;
  /** The photo the job is about: its jobs are deleted with it. */
  image_id: string | null;
  state: string;
  attempts: number;
  max_attempts: number;
  /** When the job is due: for a queued job its start time, for a running one its lease expiry. */
  run_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** One row per process, rewritten by health checks to prove the database still accepts writes. */
export interface HealthProbesTable {
  process: string;
  probed_at: string;
}

/** A sign-in session; times are epoch milliseconds. The id itself is never stored, only its SHA-256. */
export interface SessionsTable {
  id_hash: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

/** An album: chosen photos (album_images), or a smart album whose photos are those its saved search finds. */
export interface AlbumsTable {
  id: string;
  name: string;
  /** JSON of the saved filters (ImageFilters without album) of a smart album; null for chosen photos. */
  filters: string | null;
  /** The cover a person chose (cleared when that photo is deleted). */
  cover_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface AlbumImagesTable {
  album_id: string;
  image_id: string;
  added_at: string;
}

/** A photo's perceptual hashes indexed by band (window, band, 16-bit value as one integer). */
export interface ImageHashKeysTable {
  key: number;
  image_id: string;
}

/** Two near-duplicate photos, `image_a` < `image_b`; a dismissed pair ("not duplicates") stops showing. */
export interface DuplicatePairsTable {
  image_a: string;
  image_b: string;
  distance: number;
  created_at: string;
  dismissed_at: string | null;
}

export interface Database {
  images: ImagesTable;
  embeddings: EmbeddingsTable;
  jobs: JobsTable;
  health_probes: HealthProbesTable;
  sessions: SessionsTable;
  albums: AlbumsTable;
  album_images: AlbumImagesTable;
  image_hash_keys: ImageHashKeysTable;
  duplicate_pairs: DuplicatePairsTable;
}
