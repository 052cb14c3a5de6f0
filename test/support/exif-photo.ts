import sharp from "sharp";

/** Degrees as EXIF rationals ("48/1 51/1 2400/100"). */
function rationals(degrees: number): string {
  const abs = Math.abs(degrees);
  const d = Math.floor(abs);
  const m = Math.floor((abs - d) * 60);
  const s = Math.round(((abs - d) * 60 - m) * 60 * 100);
  return `${d}/1 ${m}/1 ${s}/100`;
}

/**
 * A small JPEG with a capture time and, when given, a GPS position in its EXIF, as a camera writes them:
 * ingest reads both, and names the place offline. `seed` makes the bytes distinct.
 */
export async function photoWithExif(options: {
  seed: number;
  colour?: { r: number; g: number; b: number };
  takenAt?: string;
  gps?: { lat: number; lon: number };
}): Promise<Buffer> {
  const { seed, takenAt, gps } = options;
  const colour = options.colour ?? { r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 31) % 256 };
  const exif: Record<string, Record<string, string>> = { IFD0: { Make: "Photocat", Model: "Test" } };
  // EXIF's own time format, without a zone: "2014:09:12 10:00:00".
  if (takenAt) exif.IFD2 = { DateTimeOriginal: takenAt.slice(0, 19).replace(/-/g, ":").replace("T", " ") };
  if (gps) {
    exif.IFD3 = {
      GPSLatitudeRef: gps.lat < 0 ? "S" : "N",
      GPSLatitude: rationals(gps.lat),
      GPSLongitudeRef: gps.lon < 0 ? "W" : "E",
      GPSLongitude: rationals(gps.lon),
    };
  }
  return sharp({
    create: { width: 48 + (seed % 13), height: 36 + (seed % 7), channels: 3, background: colour },
  })
    .withExif(exif)
    .jpeg()
    .toBuffer();
}
