import { createWriteStream } from "node:fs";
import path from "node:path";
import { type Command, Option } from "commander";
import { presentImage } from "../../api/present.js";
import { type Container, createContainer } from "../../container.js";
import { errorMessage, isPhotocatError } from "../../domain/errors.js";
import {
  formatBytes,
  formatLabel,
  IMAGE_STATUSES,
  type ImageRecord,
  type ImageStatus,
} from "../../domain/image.js";
import { IMAGE_ORDERS, type ImageOrder, type ImageQuery } from "../../ports/catalog.js";
import { embeddingModelKey, queueMissingEmbeddings } from "../../services/embed.js";
import { OriginalsExport } from "../../services/export-originals.js";
import { formatOption, isoDate, positiveInteger } from "../arguments.js";
import {
  csvHeader,
  csvRow,
  EXIT,
  formatImages,
  jsonLine,
  type OutputFormat,
  SHORT_ID_LENGTH,
} from "../output.js";
import { Progress } from "../progress.js";
import {
  addSettingFlags,
  CATALOGUE_SETTINGS,
  configFromFlags,
  EMBEDDING_SETTINGS,
} from "../settings-flags.js";

export type Options = Record<string, unknown> & {
  format: OutputFormat;
  category?: string;
  status?: ImageStatus;
  from?: string;
  to?: string;
  place?: string;
  album?: string;
  order?: ImageOrder;
  limit: number;
  output?: string;
  all?: boolean;
  failed?: boolean;
  purge?: boolean;
  originals?: string;
  sidecars?: boolean;
  embed?: boolean;
  search?: string;
};

/**
 * `export --originals DIR`: the files under their own names, with a progress bar on a terminal. A photo that
 * fails is reported and the export goes on; running it again resumes where it stopped.
 */
async function exportOriginals(
  container: Container,
  query: Omit<ImageQuery, "limit" | "cursor">,
  options: Options,
): Promise<number> {
  if (options.sidecars && options.embed) {
    console.error("choose --sidecars or --embed (an embedded copy needs no sidecar)");
    return EXIT.usage;
  }
  const folder = path.resolve(options.originals!);
  const exporter = await OriginalsExport.open(
    { blobs: container.blobs, writer: container.metadataWriter },
    folder,
    { sidecars: Boolean(options.sidecars), embed: Boolean(options.embed) },
  );
  const progress = new Progress(Boolean(process.stderr.isTTY));
  const ids: ImageRecord[] = [];
  for await (const image of allImages(container, query)) ids.push(image);
  const bar = progress.start("exporting [{bar}] {value}/{total} photos | {eta_formatted} left", ids.length);
  const tally = { written: 0, skipped: 0, failed: 0 };
  const problems: string[] = [];
  try {
    for (const image of ids) {
      try {
        const result = await exporter.write(image);
        if (result.skipped) tally.skipped++;
        else tally.written++;
        problems.push(...result.notes);
      } catch (error) {
        // Without a writer nothing can be embedded: stop at once rather than fail every photo the same way.
        if (isPhotocatError(error) && error.code === "writer_unavailable") throw error;
        tally.failed++;
        problems.push(`${image.originalName} (${image.id}): ${errorMessage(error)}`);
      } finally {
        bar.increment();
      }
    }
  } finally {
    progress.stop();
  }
  for (const line of problems) progress.print(line);
  progress.print(
    `exported ${tally.written} photos to ${folder}${tally.skipped ? `, ${tally.skipped} already there` : ""}${tally.failed ? `, ${tally.failed} failed` : ""}`,
  );
  return tally.failed > 0 ? EXIT.partial : EXIT.ok;
}

export async function withContainer(
  options: Options,
  task: (c: Container) => Promise<number | undefined>,
): Promise<void> {
  const container = await createContainer(configFromFlags(options));
  try {
    process.exitCode = (await task(container)) ?? EXIT.ok;
  } finally {
    await container.close();
  }
}

/** The listing the flags ask for; an album is named by its id, a unique prefix of it or its name. */
export async function queryFrom(
  container: Container,
  options: Options,
  q: string | null,
): Promise<Omit<ImageQuery, "limit" | "cursor">> {
  return {
    category: options.category ?? null,
    status: options.status ?? null,
    from: options.from ?? null,
    to: options.to ?? null,
    place: options.place ?? null,
    album: options.album ? (await container.albums.resolve(options.album)).id : null,
    order: options.order ?? null,
    q,
  };
}

/** Pages through the whole result, so exports of any size use constant memory. */
async function* allImages(container: Container, query: Omit<ImageQuery, "limit" | "cursor">, max = Infinity) {
  let cursor: string | null = null;
  let seen = 0;
  do {
    const page = await container.gallery.list({ ...query, limit: Math.min(200, max - seen), cursor });
    for (const image of page.items) yield image;
    seen += page.items.length;
    cursor = page.nextCursor;
  } while (cursor && seen < max);
}

/** The filters of a listing; the timeline and `albums create` (a smart album) take them too. */
export function withFilters(command: Command): Command {
  return command
    .option("--category <slug>", "only this category")
    .addOption(new Option("--status <status>", "only this status").choices(IMAGE_STATUSES))
    .option("--from <date>", "taken (or added) on or after this date (2024-05-01 or an ISO time)", isoDate)
    .option("--to <date>", "taken (or added) on or before this date (2024-05-01 or an ISO time)", isoDate)
    .option("--place <name>", "only photos taken at this place (as `photocat places` names it)");
}

function listingOptions(command: Command): Command {
  return withFilters(command)
    .option("--album <album>", "only the photos of this album (its id, a unique prefix of it, or its name)")
    .addOption(
      new Option("--order <order>", "added: newest added first; taken: newest taken first")
        .choices(IMAGE_ORDERS)
        .default("added"),
    );
}

/** Full ids for ids or unique prefixes, all resolved before anything is done (one bad prefix does nothing). */
export async function resolveIds(container: Container, ids: readonly string[]): Promise<string[]> {
  const resolved: string[] = [];
  for (const id of ids) resolved.push(await container.gallery.resolveId(id));
  return [...new Set(resolved)];
}

export const plural = (n: number, one = "photo", many = "photos") => `${n} ${n === 1 ? one : many}`;

export function catalogueCommands(program: Command): void {
  const listAction = (q: string | null) => async (options: Options) =>
    withContainer(options, async (container) => {
      const { format } = options;
      const images = [];
      for await (const image of allImages(container, await queryFrom(container, options, q), options.limit)) {
        images.push(image);
      }
      for (const line of formatImages(images, format, process.stdout.columns)) console.log(line);
      if (format === "table" && images.length === 0) console.error("no photos match");
      return EXIT.ok;
    });

  const list = program.command("list").description("list photos, newest first");
  listingOptions(list)
    .addOption(formatOption(["table", "json", "csv"], "table"))
    .option("-n, --limit <n>", "at most this many", positiveInteger, 50)
    .action((options: Options) => listAction(null)(options));
  addSettingFlags(list, CATALOGUE_SETTINGS);

  const search = program
    .command("search")
    .description(
      "search descriptions, tags, text and names by meaning: each word also finds its synonyms and more " +
        "specific words (animal finds dogs), exact matches first",
    );
  listingOptions(search.argument("<query...>", "words to find"))
    .addOption(formatOption(["table", "json", "csv"], "table"))
    .option("-n, --limit <n>", "at most this many", positiveInteger, 50)
    .action((words: string[], options: Options) => listAction(words.join(" "))(options));
  addSettingFlags(search, [...CATALOGUE_SETTINGS, ...EMBEDDING_SETTINGS]);

  const show = program
    .command("show")
    .description("show one photo")
    .argument("<id>", "photo id, or a unique prefix of it (at least 4 characters)")
    .addOption(formatOption(["table", "json"], "table"))
    .action((id: string, options: Options) =>
      withContainer(options, async (container) => {
        const image = await container.gallery.get(await container.gallery.resolveId(id));
        if (options.format === "json") {
          console.log(JSON.stringify(presentImage(image), null, 2));
          return EXIT.ok;
        }
        const j = presentImage(image);
        const rows: [string, unknown][] = [
          ["id", j.id],
          ["status", j.status],
          ["category", j.category],
          ["summary", j.summary],
          ["tags", j.tags.join(", ")],
          ["alt text", j.alt_text],
          ["visible text", j.text],
          ["taken", j.taken_at],
          ["camera", j.camera],
          ["place", j.place],
          ["file", `${j.original_name} (${j.media_type}, ${j.width}x${j.height})`],
          [
            "analysis",
            j.analysis ? `${j.analysis.provider}/${j.analysis.model}, $${j.analysis.cost_usd}` : null,
          ],
          ["error", j.error],
        ];
        for (const [k, v] of rows) if (v !== null && v !== "") console.log(`${k.padEnd(13)} ${v}`);
        return EXIT.ok;
      }),
    );
  addSettingFlags(show, CATALOGUE_SETTINGS);

  const exportCmd = program
    .command("export")
    .description(
      "export the catalogue as JSON lines or CSV, or with --originals DIR the photo files themselves (with --sidecars or --embed, their descriptions too)",
    );
  listingOptions(exportCmd)
    .addOption(formatOption(["json", "csv"], "json"))
    .option("-o, --output <file>", "write to a file instead of standard output")
    .option(
      "--originals <dir>",
      "copy the original files into this folder, under their own names (resumable)",
    )
    .option("--sidecars", "with --originals: write an XMP sidecar (name.xmp) beside each file")
    .option("--embed", "with --originals: write the description into each copy (XMP, IPTC, EXIF; needs perl)")
    .option("--search <words>", "only the photos this full-text search finds")
    .action((options: Options) =>
      withContainer(options, async (container) => {
        const query = await queryFrom(container, options, options.search?.trim() || null);
        if (options.originals) return exportOriginals(container, query, options);
        if (options.sidecars || options.embed) {
          console.error("--sidecars and --embed go with --originals DIR");
          return EXIT.usage;
        }
        const { format } = options;
        const out = options.output ? createWriteStream(options.output) : process.stdout;
        const write = (line: string) =>
          new Promise<void>((resolve, reject) => {
            out.write(`${line}\n`, (error) => (error ? reject(error) : resolve()));
          });
        if (format === "csv") await write(csvHeader());
        let n = 0;
        for await (const image of allImages(container, query)) {
          await write(format === "csv" ? csvRow(image) : jsonLine(image));
          n++;
        }
        if (options.output) {
          await new Promise<void>((resolve) => (out as ReturnType<typeof createWriteStream>).end(resolve));
          console.error(`exported ${n} photos to ${options.output}`);
        }
        return EXIT.ok;
      }),
    );
  addSettingFlags(exportCmd, CATALOGUE_SETTINGS);

  const reanalyse = program
    .command("reanalyse")
    .alias("reanalyze")
    .description("queue photos for analysis again (a running server or `photocat worker` does the work)")
    .argument("[ids...]", "photo ids (or unique prefixes)")
    .option("--all", "every photo")
    .option("--failed", "photos whose analysis failed")
    .option("--category <slug>", "photos in this category")
    .action((ids: string[], options: Options) =>
      withContainer(options, async (container) => {
        let count = 0;
        if (ids.length > 0) {
          for (const id of ids) await container.gallery.reanalyse(await container.gallery.resolveId(id));
          count = ids.length;
        } else if (options.all || options.failed || options.category) {
          count = await container.gallery.reanalyseMany({
            all: Boolean(options.all),
            status: options.failed ? "failed" : undefined,
            category: options.category,
          });
        } else {
          console.error("say which photos: ids, --all, --failed or --category X");
          return EXIT.usage;
        }
        console.error(`queued ${count} photos for analysis`);
        return EXIT.ok;
      }),
    );
  addSettingFlags(reanalyse, CATALOGUE_SETTINGS);

  const remove = program
    .command("delete")
    .description(
      "move photos to the trash (restore them with `photocat trash restore`), or delete them for good",
    )
    .argument("<ids...>", "photo ids (or unique prefixes)")
    .option("--purge", "delete the photos and their files for good, now")
    .action((ids: string[], options: Options) =>
      withContainer(options, async (container) => {
        // Every id is resolved before anything is deleted, so one ambiguous prefix deletes nothing.
        const resolved = await resolveIds(container, ids);
        for (const id of resolved) {
          if (options.purge) await container.gallery.delete(id);
          else await container.gallery.trash(id);
        }
        console.error(
          options.purge
            ? `deleted ${plural(resolved.length)} for good`
            : `moved ${plural(resolved.length)} to the trash`,
        );
        return EXIT.ok;
      }),
    );
  addSettingFlags(remove, CATALOGUE_SETTINGS);

  const duplicates = program
    .command("duplicates")
    .description(
      "list groups of near-duplicates (resized, re-compressed, converted or lightly cropped copies)",
    )
    .addOption(formatOption(["table", "json"], "table"))
    .action((options: Options) =>
      withContainer(options, async (container) => {
        const groups = await container.gallery.duplicates();
        if (options.format === "json") {
          const present = groups.map((g) => ({ keep: g.keep, images: g.images.map((i) => presentImage(i)) }));
          console.log(JSON.stringify({ groups: present }, null, 2));
          return EXIT.ok;
        }
        if (groups.length === 0) {
          console.error("no near-duplicates");
          return EXIT.ok;
        }
        console.log(
          [
            "",
            "ID".padEnd(SHORT_ID_LENGTH),
            "FORMAT",
            "PIXELS".padStart(11),
            "SIZE".padStart(9),
            "NAME",
          ].join("  "),
        );
        groups.forEach((group, n) => {
          console.log(`group ${n + 1}: ${group.images.length} copies`);
          for (const image of group.images) {
            console.log(
              [
                image.id === group.keep ? "keep" : "    ",
                image.id.slice(0, SHORT_ID_LENGTH),
                formatLabel(image.mediaType).padEnd(6),
                `${image.width}x${image.height}`.padStart(11),
                formatBytes(image.byteSize).padStart(9),
                image.originalName,
              ].join("  "),
            );
          }
        });
        return EXIT.ok;
      }),
    );
  addSettingFlags(duplicates, CATALOGUE_SETTINGS);

  const similar = program
    .command("similar")
    .description("more like this: the photos whose image embedding is nearest the photo's, nearest first")
    .argument("<id>", "photo id (or a unique prefix)")
    .addOption(formatOption(["table", "json", "csv"], "table"))
    .option("-n, --limit <n>", "at most this many (up to 100)", positiveInteger, 12)
    .action((id: string, options: Options) =>
      withContainer(options, async (container) => {
        const found = await container.gallery.similar(await container.gallery.resolveId(id), options.limit);
        if (options.format !== "table") {
          for (const line of formatImages(
            found.map((f) => f.image),
            options.format,
          ))
            console.log(line);
          return EXIT.ok;
        }
        if (found.length === 0) {
          console.error("no other photo has an embedding yet");
          return EXIT.ok;
        }
        const [header, ...rows] = formatImages(
          found.map((f) => f.image),
          "table",
          (process.stdout.columns ?? 100) - 8,
        );
        console.log(`${"COSINE".padEnd(6)}  ${header}`);
        for (const [i, row] of rows.entries()) {
          console.log(`${found[i]!.similarity.toFixed(3).padStart(6)}  ${row}`);
        }
        return EXIT.ok;
      }),
    );
  addSettingFlags(similar, CATALOGUE_SETTINGS);

  const embed = program
    .command("embed")
    .description(
      "queue described photos for embedding by the remote embedder (search by meaning): those without an " +
        "embedding of its model, or every one with --all (a running server or `photocat worker` does the work)",
    )
    .option("--all", "embed every described photo again")
    .action((options: Options) =>
      withContainer(options, async (container) => {
        const { embedder } = container;
        if (!embedder) {
          console.error(
            "no embedder is configured: set PHOTOCAT_EMBEDDINGS (see the README, search by meaning) to embed photos",
          );
          return EXIT.usage;
        }
        const progress = new Progress();
        let bar: ReturnType<Progress["start"]> | null = null;
        const queued = await queueMissingEmbeddings(
          { ...container, embedder },
          {
            all: Boolean(options.all),
            onProgress: (done, total) => {
              bar ??= progress.start("queueing {bar} {value}/{total}", total);
              bar.update(done);
            },
          },
        );
        progress.stop();
        console.error(
          queued === 0
            ? `every described photo has an embedding of ${embeddingModelKey(embedder)}`
            : `queued ${plural(queued)} for embedding with ${embeddingModelKey(embedder)}`,
        );
        return EXIT.ok;
      }),
    );
  addSettingFlags(embed, [...CATALOGUE_SETTINGS, ...EMBEDDING_SETTINGS]);

  const stats = program
    .command("stats")
    .description("counts by status and category, tokens and money spent")
    .addOption(formatOption(["table", "json"], "table"))
    .action((options: Options) =>
      withContainer(options, async (container) => {
        const s = await container.gallery.stats();
        const categories = await container.gallery.categories();
        const analysed = s.byModel.reduce((n, m) => n + m.images, 0);
        const perPhoto = analysed > 0 ? s.costUsd / analysed : 0;
        if (options.format === "json") {
          console.log(JSON.stringify({ ...s, costPerPhotoUsd: perPhoto, categories }, null, 2));
          return EXIT.ok;
        }
        console.log(`photos        ${s.images}`);
        for (const st of IMAGE_STATUSES) console.log(`  ${st.padEnd(11)} ${s.byStatus[st]}`);
        console.log(`tokens        ${s.inputTokens} in, ${s.outputTokens} out`);
        console.log(`cost          $${s.costUsd.toFixed(4)} ($${perPhoto.toFixed(5)} per photo)`);
        for (const m of s.byModel) {
          console.log(`  ${m.provider}/${m.model}: ${m.images} photos, $${m.costUsd.toFixed(4)}`);
        }
        if (s.byEmbeddingModel.length > 0) {
          console.log(`embeddings    $${s.embeddingCostUsd.toFixed(4)}`);
          for (const m of s.byEmbeddingModel) {
            console.log(
              `  ${m.model}: ${m.images} photos, ${m.inputTokens} tokens, $${m.costUsd.toFixed(4)}`,
            );
          }
        }
        console.log("categories");
        for (const c of categories) console.log(`  ${c.slug.padEnd(13)} ${c.count}`);
        return EXIT.ok;
      }),
    );
  addSettingFlags(stats, [...CATALOGUE_SETTINGS, "PHOTOCAT_TAXONOMY"]);
}
