import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sceneImage } from "../media/fixtures.js";
import { photocat } from "./support.js";

describe("photocat duplicates", () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-cli-dup-"));
    env = { PHOTOCAT_DATA_DIR: path.join(dir, "data") };
    const photos = path.join(dir, "photos");
    await mkdir(photos);
    const png = await sceneImage(800, 600, 5);
    await writeFile(path.join(photos, "beach.png"), png);
    await writeFile(
      path.join(photos, "beach-small.jpg"),
      await sharp(png).resize(400).jpeg({ quality: 60 }).toBuffer(),
    );
    await writeFile(
      path.join(photos, "other.jpg"),
      await sharp(await sceneImage(800, 600, 6))
        .jpeg()
        .toBuffer(),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("says so when there are none, then lists each group with the copy to keep, as a table or JSON", async () => {
    const empty = await photocat(["duplicates"], env);
    expect(empty.code).toBe(0);
    expect(empty.stderr).toContain("no near-duplicates");

    expect((await photocat(["import", path.join(dir, "photos")], env)).code).toBe(0);
    const table = await photocat(["duplicates"], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/ID\s+FORMAT\s+PIXELS\s+SIZE\s+NAME/);
    expect(lines[1]).toBe("group 1: 2 copies");
    expect(lines[2]).toMatch(/^keep {2}[0-9a-f]{8} {2}PNG\s+800x600\s+\d+ KB {2}beach\.png$/);
    expect(lines[3]).toMatch(/^ {4} {2}[0-9a-f]{8} {2}JPEG\s+400x300\s+\d+ KB {2}beach-small\.jpg$/);
    expect(lines).toHaveLength(4);

    const json = await photocat(["duplicates", "--format", "json"], env);
    const body = JSON.parse(json.stdout) as {
      groups: { keep: string; images: { id: string; original_name: string }[] }[];
    };
    expect(body.groups).toHaveLength(1);
    expect(body.groups[0]!.keep).toBe(body.groups[0]!.images[0]!.id);
    expect(body.groups[0]!.images.map((i) => i.original_name)).toEqual(["beach.png", "beach-small.jpg"]);
    expect((await photocat(["duplicates", "--format", "csv"], env)).code).toBe(2);
  });
});
