import { createWriteStream } from "node:fs";
import type { Command } from "commander";
import { presentImage } from "../../api/present.js";
import { type Container, createContainer } from "../../container.js";
import { PhotocatError } from "../../domain/errors.js";
import { IMAGE_STATUSES, type ImageStatus } from "../../domain/image.js";
import type { ImageQuery } from "../../ports/catalog.js";
import { csvHeader, csvRow, EXIT, formatImages, jsonLine, parseFormat } from "../output.js";
import { addSettingFlags, configFromFlags } from "../settings-flags.js";

type Options = Record<string, unknown> & {
  format?: string;
  category?: string;
  status?: string;
  from?: string;
  to?: string;
  limit?: string;
  output?: string;
  all?: boolean;
  failed?: boolean;
};

async function withContainer(
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

function status(value: string | undefined): ImageStatus | null {
  if (!value) return null;
  if (!(IMAGE_STATUSES as readonly string[]).includes(value)) {
    throw new PhotocatError("invalid_request", `--status must be one of ${IMAGE_STATUSES.join(", ")}`);
  }
  return value as ImageStatus;
}

function queryFrom(options: Options, q: string | null): Omit<ImageQuery, "limit" | "cursor"> {
  return {
    category: options.category ?? null,
    status: status(options.status),
    from: options.from ?? null,
    to: options.to ?? null,
    q,
  };
}

/** Pages through the whole result, so exports of any size use constant memory. */
async function* allImages(container: Container, query: Omit<ImageQuery, "limit" | "cursor">, max = Infinity) {
  let cursor: string | null = null;
  let seen = 0;
  do {
    const page = await container.catalog.listImages({ ...query, limit: Math.min(200, max - seen), cursor });
    for (const image of page.items) yield image;
    seen += page.items.length;
    cursor = page.nextCursor;
  } while (cursor && seen < max);
}

function withFilters(command: Command): Command {
  return command
    .option("--category <slug>", "only this category")
    .option("--status <status>", `only this status (${IMAGE_STATUSES.join(", ")})`)
    .option("--from <date>", "taken (or added) on or after this date")
    .option("--to <date>", "taken (or added) on or before this date");
}

export function catalogueCommands(program: Command): void {
  const listAction = (q: string | null) => async (options: Options) =>
    withContainer(options, async (container) => {
      const format = parseFormat(options.format, "table");
      const max = Number(options.limit ?? 50);
      const images = [];
      for await (const image of allImages(container, queryFrom(options, q), max)) images.push(image);
      for (const line of formatImages(images, format)) console.log(line);
      if (format === "table" && images.length === 0) console.error("no photos match");
      return EXIT.ok;
    });

  const list = program.command("list").description("list photos, newest first");
  withFilters(list)
    .option("--format <format>", "table, json (one object per line) or csv", "table")
    .option("-n, --limit <n>", "at most this many", "50")
    .action((options: Options) => listAction(null)(options));
  addSettingFlags(list);

  const search = program
    .command("search")
    .description("full-text search over descriptions, tags, text and names");
  withFilters(search.argument("<query...>", "words to find"))
    .option("--format <format>", "table, json or csv", "table")
    .option("-n, --limit <n>", "at most this many", "50")
    .action((words: string[], options: Options) => listAction(words.join(" "))(options));
  addSettingFlags(search);

  const show = program
    .command("show")
    .description("show one photo")
    .argument("<id>", "photo id")
    .option("--format <format>", "json or table", "table")
    .action((id: string, options: Options) =>
      withContainer(options, async (container) => {
        const image = await container.gallery.get(id);
        if (parseFormat(options.format, "table") === "json") {
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
  addSettingFlags(show);

  const exportCmd = program.command("export").description("export the whole catalogue as JSON lines or CSV");
  withFilters(exportCmd)
    .option("--format <format>", "json or csv", "json")
    .option("-o, --output <file>", "write to a file instead of standard output")
    .action((options: Options) =>
      withContainer(options, async (container) => {
        const format = parseFormat(options.format, "json");
        const out = options.output ? createWriteStream(options.output) : process.stdout;
        const write = (line: string) =>
          new Promise<void>((resolve, reject) => {
            out.write(`${line}\n`, (error) => (error ? reject(error) : resolve()));
          });
        if (format === "csv") await write(csvHeader());
        let n = 0;
        for await (const image of allImages(container, queryFrom(options, null))) {
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
  addSettingFlags(exportCmd);

  const reanalyse = program
    .command("reanalyse")
    .alias("reanalyze")
    .description("queue photos for analysis again (a running server or `photocat worker` does the work)")
    .argument("[ids...]", "photo ids")
    .option("--all", "every photo")
    .option("--failed", "photos whose analysis failed")
    .option("--category <slug>", "photos in this category")
    .action((ids: string[], options: Options) =>
      withContainer(options, async (container) => {
        let count = 0;
        if (ids.length > 0) {
          for (const id of ids) await container.gallery.reanalyse(id);
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
  addSettingFlags(reanalyse);

  const remove = program
    .command("delete")
    .description("delete photos and their files")
    .argument("<ids...>", "photo ids")
    .action((ids: string[], options: Options) =>
      withContainer(options, async (container) => {
        for (const id of ids) await container.gallery.delete(id);
        console.error(`deleted ${ids.length} photos`);
        return EXIT.ok;
      }),
    );
  addSettingFlags(remove);

  const stats = program
    .command("stats")
    .description("counts by status and category, tokens and money spent")
    .option("--format <format>", "json or table", "table")
    .action((options: Options) =>
      withContainer(options, async (container) => {
        const s = await container.gallery.stats();
        const categories = await container.gallery.categories();
        const analysed = s.byModel.reduce((n, m) => n + m.images, 0);
        const perPhoto = analysed > 0 ? s.costUsd / analysed : 0;
        if (parseFormat(options.format, "table") === "json") {
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
        console.log("categories");
        for (const c of categories) console.log(`  ${c.slug.padEnd(13)} ${c.count}`);
        return EXIT.ok;
      }),
    );
  addSettingFlags(stats);
}
