import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { photocat, seedCatalogue } from "./support.js";

describe("photocat albums, timeline, places and trash", () => {
  let dir: string;
  let env: Record<string, string>;
  const [paris, lima, home] = [
    "aaaa1111-0000-4000-8000-000000000001",
    "bbbb2222-0000-4000-8000-000000000002",
    "cccc3333-0000-4000-8000-000000000003",
  ];
  const json = (stdout: string) =>
    stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-cli-organise-"));
    env = { PHOTOCAT_DATA_DIR: path.join(dir, "data") };
    await seedCatalogue(env.PHOTOCAT_DATA_DIR!, [
      {
        id: paris,
        summary: "The Eiffel tower at dusk.",
        category: "architecture",
        takenAt: "2014-09-12T10:00:00Z",
        place: "Paris, France",
        gps: { latitude: 48.8566, longitude: 2.3522 },
      },
      {
        id: lima,
        summary: "A plate of ceviche.",
        category: "food",
        takenAt: "2019-03-01T08:00:00Z",
        place: "Lima, Peru",
        gps: { latitude: -12.05, longitude: -77.04 },
      },
      { id: home, summary: "A cat on a sofa.", category: "animals", takenAt: "2014-09-20T18:00:00Z" },
    ]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates, fills, renames, lists and deletes albums, by name or id prefix", async () => {
    const created = await photocat(["albums", "create", "Trips"], env);
    expect(created.code).toBe(0);
    const albumId = created.stdout.trim();
    expect(albumId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.stderr).toContain('created album "Trips" (0 photos)');

    const added = await photocat(["albums", "add", "trips", "aaaa", "bbbb"], env);
    expect(added.code).toBe(0);
    expect(added.stderr).toContain('added 2 photos: "Trips" holds 2 photos');
    const unknown = await photocat(["albums", "add", "Trips", "eeee"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no photo has an id starting with eeee");

    const listed = await photocat(["list", "--album", albumId.slice(0, 6), "--order", "taken"], env);
    expect(
      listed.stdout
        .split("\n")
        .filter((l) => /^[0-9a-f]{8}\s/.test(l))
        .map((l) => l.slice(0, 8)),
    ).toEqual(["bbbb2222", "aaaa1111"]);

    expect((await photocat(["albums", "rename", "Trips", "Travels"], env)).code).toBe(0);
    expect((await photocat(["albums", "remove", "travels", "bbbb"], env)).code).toBe(0);
    const smart = await photocat(["albums", "create", "Food", "--category", "food"], env);
    expect(smart.stderr).toContain('created smart album "Food" (1 photo)');
    const table = await photocat(["albums"], env);
    expect(table.stdout).toMatch(/^ID\s+PHOTOS\s+KIND\s+NAME$/m);
    expect(table.stdout).toMatch(/^[0-9a-f]{8}\s+1\s+smart\s+Food$/m);
    expect(table.stdout).toMatch(/^[0-9a-f]{8}\s+1\s+chosen\s+Travels$/m);
    const asJson = json((await photocat(["albums", "list", "--format", "json"], env)).stdout);
    expect(asJson.map((a) => [a.name, a.count, a.smart, a.cover])).toEqual([
      ["Food", 1, true, lima],
      ["Travels", 1, false, paris],
    ]);
    const refused = await photocat(["albums", "add", "Food", "cccc"], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("smart album");

    const deleted = await photocat(["albums", "delete", albumId.slice(0, 8)], env);
    expect(deleted.stderr).toContain('deleted album "Travels"');
    const missing = await photocat(["albums", "delete", "Travels"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no album is named or has an id starting with "Travels"');
    expect((await photocat(["show", "aaaa"], env)).code).toBe(0);
  }, 240_000);

  it("counts photos per month and names the places", async () => {
    const timeline = await photocat(["timeline"], env);
    expect(timeline.stdout.trim().split("\n")).toEqual([
      "MONTH     PHOTOS",
      "2019-03        1",
      "2014-09        2",
    ]);
    expect(
      json((await photocat(["timeline", "--category", "food", "--format", "json"], env)).stdout),
    ).toEqual([{ month: "2019-03", count: 1 }]);
    const places = await photocat(["places"], env);
    expect(places.stdout).toMatch(/^\s+1\s+48\.8566\s+2\.3522\s+Paris, France$/m);
    expect(json((await photocat(["places", "--format", "json"], env)).stdout).map((p) => p.place)).toEqual([
      "Lima, Peru",
      "Paris, France",
    ]);
    const inParis = await photocat(["list", "--place", "Paris, France", "--format", "json"], env);
    expect(json(inParis.stdout).map((i) => i.id)).toEqual([paris]);
  }, 120_000);

  it("moves deleted photos to the trash, restores them, and deletes for good only when asked", async () => {
    const trashed = await photocat(["delete", "cccc"], env);
    expect(trashed.stderr).toContain("moved 1 photo to the trash");
    const list = await photocat(["trash"], env);
    expect(list.stdout).toMatch(/^cccc3333\s/m);
    expect((await photocat(["trash", "restore", "cccc"], env)).stderr).toContain("restored 1 photo");
    expect((await photocat(["trash", "list", "--format", "json"], env)).stdout).toBe("");

    await photocat(["delete", "cccc", "bbbb"], env);
    const emptied = await photocat(["trash", "empty"], env);
    expect(emptied.stderr).toContain("deleted 2 photos for good");
    expect((await photocat(["show", "cccc"], env)).code).toBe(1);
    const purged = await photocat(["delete", "--purge", "aaaa"], env);
    expect(purged.stderr).toContain("deleted 1 photo for good");
    expect((await photocat(["trash"], env)).stderr).toContain("the trash is empty");
  }, 180_000);

  it("lists in each new command's help only the catalogue's settings", async () => {
    for (const command of [["albums", "add"], ["timeline"], ["places"], ["trash", "empty"]]) {
      const help = (await photocat([...command, "--help"])).stdout;
      expect(help, command.join(" ")).toContain("--data-dir");
      for (const unused of ["--port", "--analyser", "--max-upload-mb"]) expect(help).not.toContain(unused);
    }
  }, 120_000);
});
