/** The API's JSON shapes (snake_case, as the server sends them). */
export type ImageStatus = "queued" | "running" | "done" | "failed";

export interface Provenance {
  provider: string;
  model: string;
  prompt_version: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  ms: number;
}

export interface EditableFields {
  summary?: string;
  category?: string;
  tags?: string[];
  alt_text?: string;
}

export interface Photo {
  id: string;
  status: ImageStatus;
  duplicate?: boolean;
  original_name: string;
  media_type: string;
  width: number | null;
  height: number | null;
  taken_at: string | null;
  camera: string | null;
  place: string | null;
  summary: string | null;
  category: string | null;
  tags: string[];
  alt_text: string | null;
  text: string | null;
  error: string | null;
  edited: EditableFields | null;
  thumbhash: string | null;
  thumbnails: { small: string; large: string };
  original: string;
  analysis: Provenance | null;
  created_at: string;
  /** Orders versions of one photo: an upload's answer can arrive after the event that it was described. */
  updated_at?: string;
}

export interface PhotoPage {
  items: Photo[];
  next_cursor: string | null;
}

export interface UploadResult {
  images: Photo[];
  rejected: { name: string; error: ApiErrorBody["error"] }[];
}

export interface CategoryCount {
  slug: string;
  description: string;
  count: number;
}

export interface Stats {
  images: number;
  by_status: Record<ImageStatus, number>;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  cost_per_photo_usd: number;
  by_model: { provider: string; model: string; images: number; cost_usd: number }[];
}

export interface Session {
  required: boolean;
  authenticated: boolean;
}

export interface ApiErrorBody {
  error: { code: string; message: string };
}

/** What the gallery shows: search text and filters, mirrored in the URL. */
export interface Filters {
  q: string;
  category: string;
  status: string;
  from: string;
  to: string;
}

export const NO_FILTERS: Filters = { q: "", category: "", status: "", from: "", to: "" };
