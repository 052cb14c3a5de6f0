import type {
  Album,
  AlbumImagesResult,
  ApiErrorBody,
  BulkRequest,
  BulkResult,
  CategoryCount,
  DirectUpload,
  DirectUploadStatus,
  DuplicateGroups,
  EditableFields,
  Filters,
  Photo,
  PhotoPage,
  Place,
  SavedSearch,
  Session,
  Stats,
  TimelineMonth,
  UploadResult,
} from "./types.js";
import { SEARCH_KEYS } from "./types.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type UnauthorisedListener = () => void;
let onUnauthorised: UnauthorisedListener = () => {};

/** Every 401 outside the session endpoints means the login has expired: the app shows the login page. */
export function setUnauthorisedListener(listener: UnauthorisedListener): void {
  onUnauthorised = listener;
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === "object" && error !== null && "message" in error;
}

export function errorFrom(status: number, body: unknown, fallback: string): ApiError {
  if (isErrorBody(body)) return new ApiError(status, String(body.error.code), String(body.error.message));
  return new ApiError(status, "http_error", `${fallback} (HTTP ${status})`);
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      ...init,
      credentials: "same-origin",
      headers: { accept: "application/json", ...(init.body ? { "content-type": "application/json" } : {}) },
    });
  } catch {
    throw new ApiError(0, "network", "The server could not be reached. Check your connection.");
  }
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith("/api/session")) onUnauthorised();
    throw errorFrom(response.status, body, "The request failed");
  }
  return body as T;
}

/** The query of a listing: its filters, album and order. */
function filterParams(filters: Partial<Filters>, params = new URLSearchParams()): URLSearchParams {
  for (const key of [...SEARCH_KEYS, "album", "order"] as const) {
    const value = filters[key];
    if (value) params.set(key, value);
  }
  return params;
}

export function listPhotos(filters: Filters, cursor: string | null, limit: number): Promise<PhotoPage> {
  const params = filterParams(filters, new URLSearchParams({ limit: String(limit) }));
  if (cursor) params.set("cursor", cursor);
  return request<PhotoPage>(`/api/images?${params}`);
}

/** Photos per month taken for these filters (their order does not matter here). */
export const getTimeline = (filters: Partial<Filters>) =>
  request<TimelineMonth[]>(`/api/timeline?${filterParams({ ...filters, order: "" })}`);

export const getPlaces = () => request<Place[]>("/api/places");

const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body) });

/** Most ids one request may carry; larger selections go in several. */
const IDS_PER_REQUEST = 500;

function inChunks(ids: readonly string[]): string[][] {
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_REQUEST) chunks.push(ids.slice(i, i + IDS_PER_REQUEST));
  return chunks;
}

/** A bulk request without its ids (Omit over each member of the union). */
type BulkChange = BulkRequest extends infer R ? (R extends unknown ? Omit<R, "ids"> : never) : never;

/** One action on many photos, IDS_PER_REQUEST at a time; the answers are joined. */
export async function bulkChange(ids: readonly string[], change: BulkChange): Promise<BulkResult> {
  const joined: BulkResult = { done: [], errors: [], images: [] };
  for (const chunk of inChunks(ids)) {
    const result = await request<BulkResult>("/api/images/bulk", json("POST", { ...change, ids: chunk }));
    joined.done.push(...result.done);
    joined.errors.push(...result.errors);
    joined.images.push(...result.images);
  }
  return joined;
}

export const listAlbums = () => request<Album[]>("/api/albums");
export const getAlbum = (id: string) => request<Album>(`/api/albums/${encodeURIComponent(id)}`);
export const createAlbum = (name: string, filters?: SavedSearch) =>
  request<Album>("/api/albums", json("POST", filters ? { name, filters } : { name }));
export const updateAlbum = (id: string, change: { name?: string; cover?: string | null }) =>
  request<Album>(`/api/albums/${encodeURIComponent(id)}`, json("PATCH", change));
export const deleteAlbum = (id: string) =>
  request<void>(`/api/albums/${encodeURIComponent(id)}`, { method: "DELETE" });

/** Adds photos to (or with `remove` takes them out of) an album of chosen photos. */
export async function changeAlbumPhotos(
  id: string,
  ids: readonly string[],
  remove = false,
): Promise<AlbumImagesResult> {
  let last: AlbumImagesResult | null = null;
  const done: string[] = [];
  const errors: AlbumImagesResult["errors"] = [];
  for (const chunk of inChunks(ids)) {
    last = await request<AlbumImagesResult>(
      `/api/albums/${encodeURIComponent(id)}/images`,
      json(remove ? "DELETE" : "POST", { ids: chunk }),
    );
    done.push(...last.done);
    errors.push(...last.errors);
  }
  if (!last) throw new ApiError(400, "invalid_request", "No photos were chosen.");
  return { album: last.album, done, errors };
}

export const getPhoto = (id: string) => request<Photo>(`/api/images/${encodeURIComponent(id)}`);

/** "More like this": the photos nearest this one by their image embeddings, nearest first. */
export const similarPhotos = (id: string, limit = 8) =>
  request<{ items: Photo[] }>(`/api/images/${encodeURIComponent(id)}/similar?limit=${limit}`).then(
    (r) => r.items,
  );

export const updatePhoto = (id: string, fields: EditableFields) =>
  request<Photo>(`/api/images/${encodeURIComponent(id)}`, { method: "PATCH", body: JSON.stringify(fields) });

/** Moves a photo to the trash, which keeps it (and its files) until the trash is emptied. */
export const trashPhoto = (id: string) =>
  request<void>(`/api/images/${encodeURIComponent(id)}`, { method: "DELETE" });

export const listDuplicates = () => request<DuplicateGroups>("/api/duplicates").then((r) => r.groups);

/** "Not duplicates": the group of these photos stops showing. */
export const dismissDuplicates = (ids: string[]) =>
  request<{ dismissed: number }>("/api/duplicates/dismiss", {
    method: "POST",
    body: JSON.stringify({ ids }),
  });

export const deleteForGood = (id: string) =>
  request<void>(`/api/images/${encodeURIComponent(id)}?purge=true`, { method: "DELETE" });

export function listTrash(cursor: string | null, limit: number): Promise<PhotoPage> {
  const params = new URLSearchParams({ trashed: "true", limit: String(limit) });
  if (cursor) params.set("cursor", cursor);
  return request<PhotoPage>(`/api/images?${params}`);
}

export const restorePhoto = (id: string) =>
  request<Photo>(`/api/images/${encodeURIComponent(id)}/restore`, { method: "POST" });

export const emptyTrash = () => request<{ deleted: number }>("/api/trash", { method: "DELETE" });

/** How many photos the trash holds, up to `upTo` (the API has no count: one page tells "upTo or more"). */
export async function countTrash(upTo = 100): Promise<{ count: number; more: boolean }> {
  const page = await listTrash(null, upTo);
  return { count: page.items.length, more: page.next_cursor !== null };
}

/** Every photo in the trash, counted page by page (only when about to empty it, to name the number). */
export async function countAllTrash(): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: PhotoPage = await listTrash(cursor, 200);
    count += page.items.length;
    cursor = page.next_cursor;
  } while (cursor);
  return count;
}

export const reanalysePhoto = (id: string) =>
  request<Photo>(`/api/images/${encodeURIComponent(id)}/reanalyse`, { method: "POST" });

export const listCategories = () =>
  request<{ categories: CategoryCount[] }>("/api/categories").then((r) => r.categories);

export const getStats = () => request<Stats>("/api/stats");

export const getSession = () => request<Session>("/api/session");

export const signIn = (password: string) =>
  request<void>("/api/session", { method: "POST", body: JSON.stringify({ password }) });

export const signOut = () => request<void>("/api/session", { method: "DELETE" });

/** Whether uploads go straight to the storage (the server says so in its session answer). */
let directUpload = false;
export function setDirectUpload(on: boolean): void {
  directUpload = on;
}

/** Sends one form with upload progress (XMLHttpRequest is the only API that reports it). */
function sendForm(
  xhr: XMLHttpRequest,
  url: string,
  form: FormData,
  onProgress: (fraction: number) => void,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    xhr.open("POST", url);
    xhr.responseType = url.startsWith("/") ? "json" : "text";
    if (url.startsWith("/")) xhr.setRequestHeader("accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.response });
    xhr.onerror = () => reject(new ApiError(0, "network", "The upload was interrupted."));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "Upload cancelled."));
    xhr.send(form);
  });
}

/** One file per request so each gets its own progress; straight to the storage when the server says so. */
export function uploadFile(
  file: File,
  onProgress: (fraction: number) => void,
): { promise: Promise<UploadResult>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = directUpload
    ? uploadDirect(xhr, file, onProgress)
    : uploadThroughServer(xhr, file, onProgress);
  return { promise, abort: () => xhr.abort() };
}

async function uploadThroughServer(
  xhr: XMLHttpRequest,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<UploadResult> {
  const form = new FormData();
  form.append("file", file, file.name);
  const { status, body } = await sendForm(xhr, "/api/images", form, onProgress);
  if (status >= 200 && status < 300 && body && typeof body === "object" && "images" in body) {
    return body as UploadResult;
  }
  if (status === 401) onUnauthorised();
  throw errorFrom(status, body, "The upload failed");
}

/** Media types by extension, for files the browser gives no type (HEIC on many systems). */
const TYPES_BY_EXTENSION: Record<string, string> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
  avif: "image/avif",
  heic: "image/heic",
  heif: "image/heif",
  tif: "image/tiff",
  tiff: "image/tiff",
  bmp: "image/bmp",
};

/**
 * A direct upload: the server signs a form for one key, the browser posts the file to the storage, the
 * storage's event ingests it; the answer is what the server says became of it (polled).
 */
async function uploadDirect(
  xhr: XMLHttpRequest,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<UploadResult> {
  const extension = file.name.slice(file.name.lastIndexOf(".") + 1).toLowerCase();
  const contentType = file.type || TYPES_BY_EXTENSION[extension] || "application/octet-stream";
  const upload = await request<DirectUpload>("/api/uploads", {
    method: "POST",
    body: JSON.stringify({ name: file.name, content_type: contentType, size: file.size }),
  });
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append("file", file, file.name);
  const sent = await sendForm(xhr, upload.url, form, onProgress);
  if (sent.status < 200 || sent.status >= 300) {
    throw new ApiError(sent.status, "upload_refused", `The storage refused the file (HTTP ${sent.status}).`);
  }
  // Ingesting takes a few seconds after the file arrives; wait until the form expired, and five minutes more.
  for (let wait = 500; ; wait = Math.min(wait * 1.5, 5_000)) {
    const status = await request<DirectUploadStatus>(`/api/uploads/${encodeURIComponent(upload.id)}`);
    if (status.state === "stored" && status.image_id) {
      const photo = await getPhoto(status.image_id);
      return { images: [{ ...photo, duplicate: Boolean(status.duplicate) }], rejected: [] };
    }
    if (status.state === "rejected" && status.error) {
      return { images: [], rejected: [{ name: file.name, error: status.error }] };
    }
    if (Date.parse(upload.expires_at) + 5 * 60_000 < Date.now()) {
      throw new ApiError(0, "timeout", "The file was sent, but the server has not taken it in yet.");
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
