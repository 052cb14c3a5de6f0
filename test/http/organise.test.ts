import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageJson } from "../../src/api/present.js";
import { startPhotocat } from "../../src/entry/start.js";
import { photoWithExif } from "../support/exif-photo.js";
import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";

type Started = Awaited<ReturnType<typeof startPhotocat>>;
type Album = { id: string; name: string; count: number; cover: ImageJson | null; smart: boolean };
type IdError = { id: string; error: { code: string; message: string } };

const PARIS = { lat: 48.8566, lon: 2.3522 };
const LIMA = { lat: -12.0464, lon: -77.0428 };
const UNKNOWN = "00000000-0000-4000-8000-000000000000";

describe("HTTP API: albums, timeline, places, bulk changes and the trash", () => {
  let dataDir: string;
  let app: Started;
  /** name -> id */
  const ids = new Map<string, string>();

  const call = async <T = Record<string, unknown>>(method: string, url: string, body?: unknown) => {
    const response = await fetch(`${app.url}${url}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const listed = async (query: string) =>
    (await call<{ items: ImageJson[] }>("GET", `/api/images?${query}`)).body.items.map(
      (i) => i.original_name,
    );
  const id = (name: string) => ids.get(name)!;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-organise-"));
    app = await startPhotocat({ dataDir, analyser: fakeAnalyser() });
    const photos: [string, Promise<Buffer>][] = [
      ["paris-2014.jpg", photoWithExif({ seed: 1, takenAt: "2014-09-12T10:00:00", gps: PARIS })],
      ["paris-2014b.jpg", photoWithExif({ seed: 2, takenAt: "2014-09-20T18:30:00", gps: PARIS })],
      ["lima-2019.jpg", photoWithExif({ seed: 3, takenAt: "2019-03-01T08:00:00", gps: LIMA })],
      ["home-2016.jpg", photoWithExif({ seed: 4, takenAt: "2016-05-05T12:00:00" })],
      ["undated.jpg", solidImage({ r: 20, g: 200, b: 20 }, 5)],
    ];
    const form = new FormData();
    for (const [name, bytes] of photos) {
      form.append("file", new Blob([new Uint8Array(await bytes)], { type: "image/jpeg" }), name);
    }
    const uploaded = await fetch(`${app.url}/api/images`, { method: "POST", body: form });
    expect(uploaded.status).toBe(201);
    for (const image of ((await uploaded.json()) as { images: ImageJson[] }).images) {
      ids.set(image.original_name, image.id);
    }
  });
  afterAll(async () => {
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("orders by the time taken, starts at a month with `to`, and counts photos per month", async () => {
    expect(await listed("order=taken")).toEqual([
      "undated.jpg", // no capture time: its upload time, today
      "lima-2019.jpg",
      "home-2016.jpg",
      "paris-2014b.jpg",
      "paris-2014.jpg",
    ]);
    expect(await listed("order=taken&to=2016-05-31")).toEqual([
      "home-2016.jpg",
      "paris-2014b.jpg",
      "paris-2014.jpg",
    ]);
    const first = await call<{ items: ImageJson[]; next_cursor: string }>(
      "GET",
      "/api/images?order=taken&limit=2",
    );
    const second = await call<{ items: ImageJson[] }>(
      "GET",
      `/api/images?order=taken&limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.items.map((i) => i.original_name)).toEqual(["home-2016.jpg", "paris-2014b.jpg"]);
    const otherOrder = await call("GET", `/api/images?limit=2&cursor=${first.body.next_cursor}`);
    expect(otherOrder.status).toBe(400);
    expect((await call("GET", "/api/images?order=random")).status).toBe(400);

    const timeline = await call<{ month: string; count: number }[]>("GET", "/api/timeline");
    const thisMonth = new Date().toISOString().slice(0, 7);
    expect(timeline.body).toEqual([
      { month: thisMonth, count: 1 },
      { month: "2019-03", count: 1 },
      { month: "2016-05", count: 1 },
      { month: "2014-09", count: 2 },
    ]);
    expect((await call("GET", "/api/timeline?place=Lima%2C%20Peru")).body).toEqual([
      { month: "2019-03", count: 1 },
    ]);
    expect((await call("GET", "/api/timeline?category=nope")).status).toBe(400);
  });

  it("names the places of geotagged photos, with positions, and filters the listing by place", async () => {
    const places = await call<{ place: string; lat: number; lon: number; count: number }[]>(
      "GET",
      "/api/places",
    );
    expect(places.body.map((p) => [p.place, p.count])).toEqual([
      ["Paris, France", 2],
      ["Lima, Peru", 1],
    ]);
    expect(places.body[0]!.lat).toBeCloseTo(PARIS.lat, 3);
    expect(places.body[0]!.lon).toBeCloseTo(PARIS.lon, 3);
    expect((await listed("place=Paris%2C%20France")).sort()).toEqual(["paris-2014.jpg", "paris-2014b.jpg"]);
    expect(await listed("place=Nowhere")).toEqual([]);
  });

  it("creates, fills, lists, renames, covers, empties and deletes an album", async () => {
    const created = await call<Album>("POST", "/api/albums", { name: "  Paris  trip " });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "Paris trip",
      count: 0,
      cover: null,
      smart: false,
      filters: null,
    });
    const albumId = created.body.id;

    await call("DELETE", `/api/images/${id("home-2016.jpg")}`); // to the trash
    const added = await call<{ album: Album; done: string[]; errors: IdError[] }>(
      "POST",
      `/api/albums/${albumId}/images`,
      {
        ids: [
          id("paris-2014.jpg"),
          id("paris-2014b.jpg").toUpperCase(),
          UNKNOWN,
          "nonsense",
          id("home-2016.jpg"),
        ],
      },
    );
    expect(added.status).toBe(200);
    expect(added.body.done.sort()).toEqual([id("paris-2014.jpg"), id("paris-2014b.jpg")].sort());
    expect(added.body.errors).toEqual([
      { id: UNKNOWN, error: { code: "not_found", message: `no photo with id ${UNKNOWN}` } },
      { id: "nonsense", error: { code: "not_found", message: "no photo with id nonsense" } },
      {
        id: id("home-2016.jpg"),
        error: { code: "in_trash", message: expect.stringContaining("in the trash") },
      },
    ]);
    // The newest photo taken is the cover until one is chosen.
    expect(added.body.album).toMatchObject({
      count: 2,
      cover: { id: id("paris-2014b.jpg") },
      cover_chosen: false,
    });
    expect(await listed(`album=${albumId}&order=taken`)).toEqual(["paris-2014b.jpg", "paris-2014.jpg"]);

    const covered = await call<Album>("PATCH", `/api/albums/${albumId}`, {
      name: "Paris 2014",
      cover: id("paris-2014.jpg"),
    });
    expect(covered.body).toMatchObject({
      name: "Paris 2014",
      cover: { id: id("paris-2014.jpg") },
      cover_chosen: true,
    });
    const notMember = await call<{ error: { message: string } }>("PATCH", `/api/albums/${albumId}`, {
      cover: id("lima-2019.jpg"),
    });
    expect(notMember.status).toBe(400);
    expect(notMember.body.error.message).toBe("the cover must be a photo of the album");
    expect((await call("PATCH", `/api/albums/${albumId}`, { name: "" })).status).toBe(400);

    const albums = await call<Album[]>("GET", "/api/albums");
    expect(albums.body.map((a) => [a.name, a.count])).toEqual([["Paris 2014", 2]]);
    expect((await call<Album>("GET", `/api/albums/${albumId}`)).body.name).toBe("Paris 2014");

    const removed = await call<{ album: Album; done: string[] }>("DELETE", `/api/albums/${albumId}/images`, {
      ids: [id("paris-2014.jpg")],
    });
    expect(removed.body.album).toMatchObject({ count: 1, cover: { id: id("paris-2014b.jpg") } });

    expect((await call("DELETE", `/api/albums/${albumId}`)).status).toBe(204);
    expect((await call("GET", `/api/albums/${albumId}`)).status).toBe(404);
    expect((await call("GET", `/api/images?album=${albumId}`)).status).toBe(404);
    expect((await call("DELETE", `/api/albums/${albumId}`)).status).toBe(404);
    expect((await call("GET", `/api/images/${id("paris-2014b.jpg")}`)).status).toBe(200);
    await call("POST", `/api/images/${id("home-2016.jpg")}/restore`);
  });

  it("keeps a saved search as a smart album, whose photos follow the search", async () => {
    const smart = await call<Album & { filters: Record<string, string> }>("POST", "/api/albums", {
      name: "In Paris",
      filters: { place: "Paris, France" },
    });
    expect(smart.status).toBe(201);
    expect(smart.body).toMatchObject({ smart: true, filters: { place: "Paris, France" }, count: 2 });
    expect((await listed(`album=${smart.body.id}`)).sort()).toEqual(["paris-2014.jpg", "paris-2014b.jpg"]);
    const refused = await call<{ error: { message: string } }>(
      "POST",
      `/api/albums/${smart.body.id}/images`,
      {
        ids: [id("lima-2019.jpg")],
      },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain("smart album");
    expect((await call("POST", "/api/albums", { name: "Bad", filters: { category: "nope" } })).status).toBe(
      400,
    );
    expect((await call("POST", "/api/albums", { name: "Bad", filters: {} })).status).toBe(400);
    expect((await call("POST", "/api/albums", { name: "Bad", filters: { from: "soon" } })).status).toBe(400);
    const changed = await call<Album>("PATCH", `/api/albums/${smart.body.id}`, {
      filters: { place: "Lima, Peru" },
    });
    expect(changed.body.count).toBe(1);
    await call("DELETE", `/api/albums/${smart.body.id}`);
  });

  it("changes many photos at once, naming each id it left alone", async () => {
    const paris = [id("paris-2014.jpg"), id("paris-2014b.jpg")];
    const category = await call<{ done: string[]; errors: IdError[]; images: ImageJson[] }>(
      "POST",
      "/api/images/bulk",
      { ids: [...paris, UNKNOWN], action: "category", value: "Architecture" },
    );
    expect(category.status).toBe(200);
    expect(category.body.done.sort()).toEqual([...paris].sort());
    expect(category.body.errors).toEqual([
      { id: UNKNOWN, error: { code: "not_found", message: `no photo with id ${UNKNOWN}` } },
    ]);
    expect(category.body.images.map((i) => i.category)).toEqual(["architecture", "architecture"]);

    const tags = await call<{ images: ImageJson[] }>("POST", "/api/images/bulk", {
      ids: paris,
      action: "tags",
      value: ["Eiffel", "holiday"],
    });
    expect(tags.body.images[0]!.tags).toEqual(expect.arrayContaining(["eiffel", "holiday"]));
    expect((await listed("q=eiffel")).length).toBe(2);

    const album = (await call<Album>("POST", "/api/albums", { name: "Bulk" })).body;
    const toAlbum = await call<{ done: string[] }>("POST", "/api/images/bulk", {
      ids: paris,
      action: "album",
      value: album.id,
    });
    expect(toAlbum.body.done).toHaveLength(2);
    expect((await call<Album>("GET", `/api/albums/${album.id}`)).body.count).toBe(2);
    const noAlbum = await call("POST", "/api/images/bulk", { ids: paris, action: "album", value: UNKNOWN });
    expect(noAlbum.status).toBe(404);

    const reanalysed = await call<{ images: ImageJson[] }>("POST", "/api/images/bulk", {
      ids: [paris[0]],
      action: "reanalyse",
    });
    expect(reanalysed.body.images[0]!.status).toBe("queued");

    const trashed = await call<{ done: string[]; images: ImageJson[] }>("POST", "/api/images/bulk", {
      ids: paris,
      action: "trash",
    });
    expect(trashed.body.done).toHaveLength(2);
    expect(await listed("place=Paris%2C%20France")).toEqual([]);
    expect((await call<Album>("GET", `/api/albums/${album.id}`)).body).toMatchObject({
      count: 0,
      cover: null,
    });
    const inTrash = await call<{ errors: IdError[] }>("POST", "/api/images/bulk", {
      ids: paris,
      action: "category",
      value: "art",
    });
    expect(inTrash.body.errors.map((e) => e.error.code)).toEqual(["in_trash", "in_trash"]);
    const restored = await call<{ images: ImageJson[] }>("POST", "/api/images/bulk", {
      ids: paris,
      action: "restore",
    });
    expect(restored.body.images.map((i) => i.trashed_at)).toEqual([null, null]);

    for (const [body, message] of [
      [{ ids: paris, action: "paint" }, "action must be one of"],
      [{ ids: paris, action: "category", value: "paintings" }, "value must be a category"],
      [{ ids: [], action: "trash" }, "at least one photo"],
      [{ ids: paris, action: "tags", value: "holiday" }, "value must be a list of tags"],
      [{ ids: Array.from({ length: 1001 }, () => UNKNOWN), action: "trash" }, "at most 1000"],
    ] as const) {
      const refused = await call<{ error: { message: string } }>("POST", "/api/images/bulk", body);
      expect(refused.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(refused.body.error.message).toContain(message);
    }
  });

  it("lists the trash with trashed=true, restores a photo, and has no second way to do either", async () => {
    const lima = id("lima-2019.jpg");
    expect((await call("DELETE", `/api/images/${lima}`)).status).toBe(204);
    const trash = await call<{ items: ImageJson[] }>("GET", "/api/images?trashed=true");
    expect(trash.body.items.map((i) => i.id)).toEqual([lima]);
    const filtered = await call<{ error: { message: string } }>(
      "GET",
      "/api/images?trashed=true&category=food",
    );
    expect(filtered.status).toBe(400);
    expect(filtered.body.error.message).toContain("only cursor and limit");
    expect((await call("POST", `/api/images/${lima}/restore`)).status).toBe(200);
    expect((await call<{ items: ImageJson[] }>("GET", "/api/images?trashed=true")).body.items).toEqual([]);
    expect((await call("POST", `/api/images/${UNKNOWN}/restore`)).status).toBe(404);
    // The routes of the first trash are gone: one way to do a thing.
    expect((await call("GET", "/api/trash")).status).toBe(404);
    expect((await call("POST", `/api/trash/${lima}/restore`)).status).toBe(404);
  });

  it("deletes for good, files and all, what has been in the trash for 30 days, and nothing newer", async () => {
    const { gallery } = app.running.container;
    const lima = id("lima-2019.jpg");
    const home = id("home-2016.jpg");
    await call("DELETE", `/api/images/${lima}`);
    await call("DELETE", `/api/images/${home}`);
    const image = (await call<ImageJson>("GET", `/api/images/${lima}`)).body;
    expect((await fetch(`${app.url}${image.thumbnails.small}`)).status).toBe(200);

    expect(await gallery.purgeExpiredTrash(Date.now() + 29 * 86_400_000)).toBe(0);
    expect(await gallery.purgeExpiredTrash(Date.now() + 31 * 86_400_000)).toBe(2);
    expect((await call("GET", `/api/images/${lima}`)).status).toBe(404);
    expect((await fetch(`${app.url}${image.thumbnails.small}`)).status).toBe(404);
    expect((await fetch(`${app.url}${image.original}`)).status).toBe(404);
  });
});
