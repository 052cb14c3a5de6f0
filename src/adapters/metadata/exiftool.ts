import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { promisify } from "node:util";
import type { ExifTool, WriteTags } from "exiftool-vendored";
import { PhotocatError } from "../../domain/errors.js";
import { isAcceptedMediaType, MEDIA_TYPES } from "../../domain/image.js";
import type { FileDescription, MetadataWriter } from "../../ports/metadata-writer.js";

/** Formats ExifTool cannot write into (it reads BMP, but writes nothing there). */
const NOT_WRITABLE = new Set(["image/bmp"]);
/** Formats with no IPTC-IIM block (ExifTool writes IPTC only into JPEG, TIFF, PSD and TIFF-based RAW). */
const NO_IPTC = new Set(["image/png", "image/webp", "image/gif", "image/avif", "image/heic", "image/heif"]);

const run = promisify(execFile);

/** Whether perl (and a given ExifTool) can run here: AWS Lambda's Node runtime, for one, has no perl. */
async function canRun(perl: string, exiftoolPath: string | undefined): Promise<void> {
  await run(perl, ["-e", "1"], { timeout: 10_000 });
  if (exiftoolPath) await access(exiftoolPath, constants.X_OK);
}

const formatLabel = (mediaType: string) =>
  isAcceptedMediaType(mediaType) ? MEDIA_TYPES[mediaType].label : mediaType;

function unavailable(cause: unknown): PhotocatError {
  return new PhotocatError(
    "writer_unavailable",
    "embedding metadata needs ExifTool, which cannot run here (perl is missing or failed to start); the XMP sidecar (GET /api/images/{id}/xmp, export --sidecars) works without it",
    { cause },
  );
}

/** The tags written for a description: XMP (dc, lr, Iptc4xmpCore), IPTC-IIM and EXIF, nothing else. */
export function exiftoolTags(mediaType: string, d: FileDescription): WriteTags {
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
    Object.entries(tags).filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && v.length === 0)),
  ) as WriteTags;
}

/**
 * ExifTool through exiftool-vendored (the Perl ExifTool shipped in npm, run with the system perl), one
 * process kept warm and started on first use. Capture date, GPS and orientation are never named, so never
 * changed.
 */
export function createExiftoolWriter(
  options: {
    taskTimeoutMs?: number;
    /** Another ExifTool or perl than the usual ones (tests point these at missing files). */
    exiftoolPath?: string;
    perl?: string;
  } = {},
): MetadataWriter {
  let tool: Promise<ExifTool> | null = null;
  const start = () => {
    // Checked before anything is spawned: a child process that cannot start would take the server down.
    tool ??= canRun(options.perl ?? "perl", options.exiftoolPath)
      .then(() => import("exiftool-vendored"))
      .then(
        ({ ExifTool }) =>
          new ExifTool({
            maxProcs: 1,
            taskTimeoutMillis: options.taskTimeoutMs ?? 60_000,
            // No network, no time zone guessing: only writing happens here.
            geolocation: false,
            ...(options.exiftoolPath ? { exiftoolPath: options.exiftoolPath } : {}),
          }),
      );
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
      let exiftool: ExifTool;
      try {
        exiftool = await start();
      } catch (error) {
        tool = null;
        throw unavailable(error);
      }
      try {
        // UTF-8 in IPTC is declared, so readers do not take it for Latin-1.
        await exiftool.write(file, exiftoolTags(mediaType, description), {
          writeArgs: ["-overwrite_original", "-codedcharacterset=utf8"],
          ignoreMinorErrors: true,
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (/ENOENT|spawn|perl|not found|exited/i.test(message) && !/Error:/.test(message)) {
          throw unavailable(error);
        }
        throw new PhotocatError(
          "cannot_embed",
          `the description could not be written into this ${formatLabel(mediaType)} file (${message.split("\n")[0]?.slice(0, 200)})`,
          { cause: error },
        );
      }
    },
    async close() {
      const running = tool;
      tool = null;
      if (running) await (await running.catch(() => null))?.end();
    },
  };
}
