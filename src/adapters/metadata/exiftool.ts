import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PhotocatError } from "../../domain/errors.js";
import { isAcceptedMediaType, MEDIA_TYPES } from "../../domain/image.js";
import type { FileDescription, MetadataWriter } from "../../ports/metadata-writer.js";

/** Formats ExifTool cannot write into (it reads BMP, but writes nothing there). */
const NOT_WRITABLE = new Set(["image/bmp"]);
/** Formats with no IPTC-IIM block (ExifTool writes IPTC only into JPEG, TIFF, PSD and TIFF-based RAW). */
const NO_IPTC = new Set(["image/png", "image/webp", "image/gif", "image/avif", "image/heic", "image/heif"]);

const run = promisify(execFile);

const formatLabel = (mediaType: string) =>
  isAcceptedMediaType(mediaType) ? MEDIA_TYPES[mediaType].label : mediaType;

function unavailable(cause: unknown): PhotocatError {
  return new PhotocatError(
    "writer_unavailable",
    "embedding metadata needs ExifTool, which cannot run here (perl is missing or failed to start); the XMP sidecar (GET /api/images/{id}/xmp, export --sidecars) works without it",
    { cause },
  );
}

/** The Perl ExifTool that the exiftool-vendored.pl package ships (run with the system perl, offline). */
function vendoredExiftool(): string {
  const manifest = createRequire(import.meta.url).resolve("exiftool-vendored.pl/package.json");
  return path.join(path.dirname(manifest), "bin", "exiftool");
}

/** The tags written for a description: XMP (dc, lr, Iptc4xmpCore), IPTC-IIM and EXIF, nothing else. */
export function exiftoolTags(mediaType: string, d: FileDescription): Record<string, string | string[]> {
  const tags: Record<string, string | string[] | null> = {
    "XMP-dc:Title": d.title,
    "XMP-dc:Description": d.description,
    "XMP-dc:Subject": d.keywords,
    "XMP-lr:HierarchicalSubject": d.hierarchicalSubjects,
    "XMP-iptcCore:AltTextAccessibility": d.altText,
    "XMP-iptcCore:ExtDescrAccessibility": d.visibleText,
    "EXIF:ImageDescription": d.description,
  };
  if (!NO_IPTC.has(mediaType)) {
    Object.assign(tags, {
      "IPTC:ObjectName": d.title,
      "IPTC:Caption-Abstract": d.description,
      "IPTC:Keywords": d.keywords,
    });
  }
  // Empty fields are left as the file has them: the description replaces, it does not erase.
  return Object.fromEntries(
    Object.entries(tags).filter(
      (entry): entry is [string, string | string[]] =>
        entry[1] !== null && entry[1] !== "" && !(Array.isArray(entry[1]) && entry[1].length === 0),
    ),
  );
}

/**
 * One ExifTool process kept open (`-stay_open`), given one command at a time: each command's arguments go
 * on stdin, and its end is told by markers echoed on stdout and stderr.
 */
class StayOpenExiftool {
  private readonly child: ChildProcessWithoutNullStreams;
  private stdout = "";
  private stderr = "";
  private queue: Promise<unknown> = Promise.resolve();
  private counter = 0;
  private waiting: (() => void) | null = null;
  private failure: Error | null = null;

  constructor(perl: string, exiftool: string) {
    this.child = spawn(perl, [exiftool, "-stay_open", "True", "-@", "-"], { stdio: "pipe" });
    this.child.stdout.setEncoding("utf8").on("data", (d: string) => this.received("stdout", d));
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => this.received("stderr", d));
    const fail = (error: Error) => {
      this.failure = error;
      this.waiting?.();
    };
    this.child.on("error", fail);
    this.child.on("exit", (code) => fail(new Error(`ExifTool exited (${code})`)));
    this.child.stdin.on("error", fail);
  }

  private received(stream: "stdout" | "stderr", data: string) {
    this[stream] += data;
    this.waiting?.();
  }

  /** Runs one command; resolves with what it printed. */
  execute(args: readonly string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
    const task = this.queue.then(() => this.executeNow(args, timeoutMs));
    this.queue = task.catch(() => {});
    return task;
  }

  private async executeNow(args: readonly string[], timeoutMs: number) {
    if (this.failure) throw this.failure;
    const n = ++this.counter;
    const marker = `{ready${n}}`;
    this.stdout = "";
    this.stderr = "";
    this.child.stdin.write(`${[...args, "-echo4", `{done${n}}`, `-execute${n}`].join("\n")}\n`);
    const deadline = Date.now() + timeoutMs;
    while (!(this.stdout.includes(marker) && this.stderr.includes(`{done${n}}`))) {
      if (this.failure) throw this.failure;
      if (Date.now() > deadline) throw new Error(`ExifTool did not answer within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.waiting = null;
    return {
      stdout: this.stdout.slice(0, this.stdout.indexOf(marker)),
      stderr: this.stderr.slice(0, this.stderr.indexOf(`{done${n}}`)),
    };
  }

  async close(): Promise<void> {
    if (this.failure || this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin.end("-stay_open\nFalse\n");
    const timer = setTimeout(() => this.child.kill(), 2_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * ExifTool, as the exiftool-vendored.pl package ships it, run with the system perl: one process kept warm and
 * started on first use. Capture date, GPS and orientation are never named, so never changed. Tag values go
 * through a JSON file (-json=), so no value is ever read as an option.
 */
export function createExiftoolWriter(
  options: {
    taskTimeoutMs?: number;
    /** Another ExifTool or perl than the usual ones (tests point these at missing files). */
    exiftoolPath?: string;
    perl?: string;
  } = {},
): MetadataWriter {
  const perl = options.perl ?? "perl";
  const timeoutMs = options.taskTimeoutMs ?? 60_000;
  let tool: Promise<StayOpenExiftool> | null = null;
  const start = () => {
    // Checked before anything is kept running: AWS Lambda's Node runtime, for one, has no perl.
    tool ??= (async () => {
      const exiftool = options.exiftoolPath ?? vendoredExiftool();
      await run(perl, ["-e", "1"], { timeout: 10_000 });
      await access(exiftool, constants.R_OK);
      return new StayOpenExiftool(perl, exiftool);
    })();
    return tool;
  };
  return {
    kind: "exiftool",
    async embed(file, mediaType, description) {
      if (NOT_WRITABLE.has(mediaType)) {
        throw new PhotocatError(
          "cannot_embed",
          `${formatLabel(mediaType)} files cannot carry embedded metadata; use the XMP sidecar instead`,
        );
      }
      let exiftool: StayOpenExiftool;
      try {
        exiftool = await start();
      } catch (error) {
        tool = null;
        throw unavailable(error);
      }
      const folder = await mkdtemp(path.join(tmpdir(), "photocat-tags-"));
      try {
        const tags = path.join(folder, "tags.json");
        await writeFile(tags, JSON.stringify([{ SourceFile: "*", ...exiftoolTags(mediaType, description) }]));
        // UTF-8 in IPTC is declared, so readers do not take it for Latin-1; -m lets minor warnings pass.
        const { stdout, stderr } = await exiftool
          .execute(["-overwrite_original", "-m", "-codedcharacterset=utf8", `-json=${tags}`, file], timeoutMs)
          .catch((error: unknown) => {
            tool = null;
            void exiftool.close().catch(() => {});
            throw unavailable(error);
          });
        // The summary ("1 image files updated", or "unchanged" when nothing differed) comes on either stream.
        const said = `${stdout}\n${stderr}`;
        if (!/\b1 image files? (updated|unchanged)/.test(said)) {
          const reason = (said.split("\n").find((l) => /error/i.test(l)) ?? said).trim();
          throw new PhotocatError(
            "cannot_embed",
            `the description could not be written into this ${formatLabel(mediaType)} file (${reason.replace(` - ${file}`, "").slice(0, 200) || "ExifTool wrote nothing"})`,
          );
        }
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    },
    async close() {
      const running = tool;
      tool = null;
      if (running) await (await running.catch(() => null))?.close();
    },
  };
}
