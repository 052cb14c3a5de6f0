import type { Command } from "commander";
import type { Container } from "../../container.js";
import type { PhotocatError } from "../../domain/errors.js";
import type { AlbumSummary } from "../../ports/catalog.js";
import { formatOption, positiveInteger } from "../arguments.js";
import { EXIT, formatImages, SHORT_ID_LENGTH, truncateWords } from "../output.js";
import { addSettingFlags, CATALOGUE_SETTINGS } from "../settings-flags.js";
import { type Options, plural, queryFrom, resolveIds, withContainer, withFilters } from "./catalogue.js";

/** Prints each photo left alone with why; exit 3 when there was one (as for rejected files). */
function reportLeftAlone(errors: { id: string; error: PhotocatError }[]): number {
  for (const { id, error } of errors) console.error(`photocat: ${id}: ${error.message}`);
  return errors.length > 0 ? EXIT.partial : EXIT.ok;
}

function albumJson(album: AlbumSummary) {
  return {
    id: album.id,
    name: album.name,
    count: album.count,
    smart: album.filters !== null,
    filters: album.filters,
    cover: album.cover?.id ?? null,
    created_at: album.createdAt,
    updated_at: album.updatedAt,
  };
}

function albumTable(albums: AlbumSummary[], columns = 100): string[] {
  if (albums.length === 0) return [];
  const header = ["ID".padEnd(SHORT_ID_LENGTH), "PHOTOS", "KIND  ", "NAME"].join("  ");
  const nameWidth = Math.max(20, columns - header.length + 4);
  return [
    header,
    ...albums.map((a) =>
      [
        a.id.slice(0, SHORT_ID_LENGTH),
        String(a.count).padStart(6),
        (a.filters ? "smart" : "chosen").padEnd(6),
        truncateWords(a.name, nameWidth),
      ].join("  "),
    ),
  ];
}

/** A subcommand with the catalogue's settings (its help lists only those). */
function subcommand(parent: Command, name: string, description: string, isDefault = false): Command {
  const command = parent.command(name, { isDefault }).description(description);
  addSettingFlags(command, CATALOGUE_SETTINGS);
  return command;
}

/** `photocat albums`, `timeline`, `places` and `trash`. */
export function organiseCommands(program: Command): void {
  const albums = program
    .command("albums")
    .description("albums of chosen photos, and smart albums (saved searches)");

  subcommand(albums, "list", "list the albums with their photo counts (the default)", true)
    .addOption(formatOption(["table", "json"], "table"))
    .action((options: Options) =>
      withContainer(options, async (container) => {
        const list = await container.albums.list();
        if (options.format === "json") for (const a of list) console.log(JSON.stringify(albumJson(a)));
        else for (const line of albumTable(list, process.stdout.columns)) console.log(line);
        if (options.format === "table" && list.length === 0)
          console.error("no albums yet: photocat albums create <name>");
        return EXIT.ok;
      }),
    );

  withFilters(
    subcommand(
      albums,
      "create",
      "create an album; with a search or filters, a smart album that shows whatever they find",
    ).argument("<name>", "the album's name"),
  )
    .option("--search <words>", "a smart album of the photos these words find")
    .action((name: string, options: Options & { search?: string }) =>
      withContainer(options, async (container) => {
        const query = await queryFrom(container, options, options.search ?? null);
        const filters = Object.fromEntries(
          (["category", "status", "from", "to", "place", "q"] as const).flatMap((k) =>
            query[k] ? [[k, query[k]]] : [],
          ),
        );
        const album = await container.albums.create(name, Object.keys(filters).length > 0 ? filters : null);
        console.log(album.id);
        console.error(
          `created ${album.filters ? "smart " : ""}album "${album.name}" (${plural(album.count)})`,
        );
        return EXIT.ok;
      }),
    );

  subcommand(albums, "rename", "rename an album")
    .argument("<album>", "the album's id, a unique prefix of it, or its name")
    .argument("<name>", "the new name")
    .action((albumName: string, name: string, options: Options) =>
      withContainer(options, async (container) => {
        const album = await container.albums.resolve(albumName);
        const renamed = await container.albums.update(album.id, { name });
        console.error(`renamed "${album.name}" to "${renamed.name}"`);
        return EXIT.ok;
      }),
    );

  for (const [name, description, verb] of [
    ["add", "add photos to an album", "added"],
    ["remove", "take photos out of an album (they stay in the library)", "removed"],
  ] as const) {
    subcommand(albums, name, description)
      .argument("<album>", "the album's id, a unique prefix of it, or its name")
      .argument("<ids...>", "photo ids (or unique prefixes)")
      .action((albumName: string, ids: string[], options: Options) =>
        withContainer(options, async (container) => {
          const album = await container.albums.resolve(albumName);
          const resolved = await resolveIds(container, ids);
          const outcome =
            name === "add"
              ? await container.albums.add(album.id, resolved)
              : await container.albums.remove(album.id, resolved);
          console.error(
            `${verb} ${plural(outcome.images.length)}: "${outcome.album.name}" holds ${plural(outcome.album.count)}`,
          );
          return reportLeftAlone(outcome.errors);
        }),
      );
  }

  subcommand(albums, "delete", "delete an album (its photos stay in the library)")
    .argument("<album>", "the album's id, a unique prefix of it, or its name")
    .action((albumName: string, options: Options) =>
      withContainer(options, async (container) => {
        const album = await container.albums.resolve(albumName);
        await container.albums.delete(album.id);
        console.error(`deleted album "${album.name}"; its photos stay in the library`);
        return EXIT.ok;
      }),
    );

  const timeline = withFilters(
    program
      .command("timeline")
      .description("photos per month taken (the month added when unknown), newest first"),
  )
    .option("--album <album>", "only the photos of this album (its id, a unique prefix of it, or its name)")
    .addOption(formatOption(["table", "json"], "table"))
    .action((options: Options) =>
      withContainer(options, async (container) => {
        const months = await container.gallery.timeline(await queryFrom(container, options, null));
        if (options.format === "json") {
          for (const m of months) console.log(JSON.stringify(m));
          return EXIT.ok;
        }
        if (months.length === 0) console.error("no photos match");
        else console.log(`MONTH     PHOTOS`);
        for (const m of months) console.log(`${m.month}  ${String(m.count).padStart(7)}`);
        return EXIT.ok;
      }),
    );
  addSettingFlags(timeline, CATALOGUE_SETTINGS);

  const places = program
    .command("places")
    .description("places where geotagged photos were taken, with their counts, largest first")
    .addOption(formatOption(["table", "json"], "table"))
    .action((options: Options) =>
      withContainer(options, async (container) => {
        const found = await container.gallery.places({});
        if (options.format === "json") {
          for (const p of found) console.log(JSON.stringify(p));
          return EXIT.ok;
        }
        if (found.length === 0) console.error("no geotagged photos");
        else console.log(`PHOTOS  LATITUDE  LONGITUDE  PLACE`);
        for (const p of found) {
          console.log(
            `${String(p.count).padStart(6)}  ${p.lat.toFixed(4).padStart(8)}  ${p.lon.toFixed(4).padStart(9)}  ${p.place}`,
          );
        }
        return EXIT.ok;
      }),
    );
  addSettingFlags(places, CATALOGUE_SETTINGS);

  const trash = program
    .command("trash")
    .description(`photos moved to the trash: deleted for good after 30 days, or when it is emptied`);

  subcommand(trash, "list", "list the trash, most recently trashed first (the default)", true)
    .addOption(formatOption(["table", "json", "csv"], "table"))
    .option("-n, --limit <n>", "at most this many", positiveInteger, 50)
    .action((options: Options) =>
      withContainer(options, async (container) => {
        const images = [];
        let cursor: string | null = null;
        do {
          const page = await container.gallery.listTrash({
            limit: Math.min(200, options.limit - images.length),
            cursor,
          });
          images.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor && images.length < options.limit);
        for (const line of formatImages(images, options.format, process.stdout.columns)) console.log(line);
        if (options.format === "table" && images.length === 0) console.error("the trash is empty");
        return EXIT.ok;
      }),
    );

  subcommand(trash, "restore", "bring photos back from the trash")
    .argument("<ids...>", "photo ids (or unique prefixes)")
    .action((ids: string[], options: Options) =>
      withContainer(options, async (container) => {
        const outcome = await container.gallery.bulk(await resolveIds(container, ids), { action: "restore" });
        console.error(`restored ${plural(outcome.images.length)}`);
        return reportLeftAlone(outcome.errors);
      }),
    );

  subcommand(trash, "empty", "delete every photo in the trash, and its files, for good").action(
    (options: Options) =>
      withContainer(options, async (container: Container) => {
        const deleted = await container.gallery.emptyTrash();
        console.error(`deleted ${plural(deleted)} for good`);
        return EXIT.ok;
      }),
  );
}
