import { readFile } from "node:fs/promises";
import type { Analysis } from "../domain/analysis.js";
import { assertWithinPixelLimit, readImageHeader } from "../media/decode.js";
import { detectMediaType } from "../media/detect.js";
import { readPhotoMetadata } from "../media/exif.js";
import { reverseGeocode } from "../media/geocode.js";
import type { Analyser } from "../ports/analyser.js";
import { type AnalyseSettings, contextFor } from "./analyse.js";

export interface DescribeSettings extends AnalyseSettings {
  maxPixels: number;
}

/**
 * Describes a local file without storing anything (`photocat analyse`): so no thumbnails, the file is read
 * once, typed by its content, checked against the pixel limit and decoded by the analyser.
 */
export async function describeFile(
  analyser: Analyser,
  settings: DescribeSettings,
  file: string,
): Promise<Analysis> {
  const bytes = await readFile(file);
  const mediaType = await detectMediaType(bytes);
  const header = await readImageHeader(bytes, mediaType);
  if (header) assertWithinPixelLimit(header.width, header.height, settings.maxPixels);
  const metadata = await readPhotoMetadata(bytes);
  const place = metadata.gps ? await reverseGeocode(metadata.gps.latitude, metadata.gps.longitude) : null;
  return analyser.analyse({
    bytes,
    mediaType,
    taxonomy: settings.taxonomy,
    language: settings.language,
    context: contextFor({ metadata, place }, analyser, settings.shareContext),
  });
}
