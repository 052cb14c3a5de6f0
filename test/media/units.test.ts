import { describe, expect, it } from "vitest";
import { dominantColourNames } from "../../src/media/colours.js";
import { exifDateToIso, photoMetadataFromTags } from "../../src/media/exif.js";
import { reverseGeocode } from "../../src/media/geocode.js";

describe("reverseGeocode", () => {
  it.each([
    [43.4832, -1.5586, "Biarritz, France"],
    [48.8584, 2.2945, "Paris, France"],
    [52.2485, 21.0124, "Warsaw, Poland"],
    [-33.8568, 151.2153, "Sydney, Australia"],
  ])("names %f, %f as %s", async (lat, lon, place) => {
    expect(await reverseGeocode(lat, lon)).toBe(place);
  });

  it.each([
    ["the middle of the Atlantic", 40, -40],
    ["latitude out of range", 91, 0],
    ["longitude out of range", 10, 200],
    ["not a number", Number.NaN, 0],
  ])("gives null for %s", async (_label, lat, lon) => {
    expect(await reverseGeocode(lat, lon)).toBeNull();
  });
});

describe("exifDateToIso", () => {
  it("keeps the local time as written when no offset is recorded", () => {
    expect(exifDateToIso("2019:05:04 12:00:05")).toBe("2019-05-04T12:00:05");
  });
  it("adds the recorded offset", () => {
    expect(exifDateToIso("2021:04:11 15:47:53", "-05:00")).toBe("2021-04-11T15:47:53-05:00");
  });
  it.each(["0000:00:00 00:00:00", "2019:02:30 10:00:00", "2019:13:01 10:00:00", "yesterday", "    "])(
    "rejects %j",
    (value) => {
      expect(exifDateToIso(value)).toBeNull();
    },
  );
  it("ignores a malformed offset", () => {
    expect(exifDateToIso("2019:05:04 12:00:05", "Z+99")).toBe("2019-05-04T12:00:05");
  });
});

describe("photoMetadataFromTags", () => {
  it("drops a 0,0 position, wrong types and control characters", () => {
    expect(
      photoMetadataFromTags({
        Make: "NIKON\u0000\u0000  ",
        Model: 42,
        latitude: 0,
        longitude: 0,
        Orientation: 12,
      }),
    ).toEqual({
      takenAt: null,
      cameraMake: "NIKON",
      cameraModel: null,
      lens: null,
      gps: null,
      orientation: null,
    });
  });
  it("makes altitude below sea level negative", () => {
    const meta = photoMetadataFromTags({
      latitude: 31.5,
      longitude: 35.5,
      GPSAltitude: 430,
      GPSAltitudeRef: 1,
    });
    expect(meta.gps).toEqual({ latitude: 31.5, longitude: 35.5, altitude: -430 });
  });
});

function solid(pixels: Array<[r: number, g: number, b: number, count: number]>): Uint8Array {
  const values: number[] = [];
  for (const [r, g, b, count] of pixels) for (let i = 0; i < count; i++) values.push(r, g, b, 255);
  return Uint8Array.from(values);
}

describe("dominantColourNames", () => {
  it("names the main colours, most covered first", () => {
    const rgba = solid([
      [40, 90, 200, 60], // blue sky
      [250, 250, 250, 25], // white clouds
      [30, 80, 40, 15], // dark green trees
    ]);
    expect(dominantColourNames(rgba, 10, 10)).toEqual(["blue", "white", "dark green"]);
  });

  it("gives fewer names for a plain picture and ignores transparent pixels", () => {
    const rgba = solid([[200, 30, 30, 100]]);
    for (let i = 3; i < 200; i += 4) rgba[i] = 0; // the first 50 pixels transparent
    rgba.set([20, 20, 220, 0], 0); // a transparent blue pixel does not count
    expect(dominantColourNames(rgba, 10, 10)).toEqual(["red"]);
  });

  it("stops at five names", () => {
    const rgba = solid([
      [200, 30, 30, 15],
      [30, 160, 50, 15],
      [40, 90, 200, 15],
      [240, 210, 40, 15],
      [250, 250, 250, 15],
      [10, 10, 10, 15],
      [130, 60, 170, 10],
    ]);
    expect(dominantColourNames(rgba, 10, 10)).toHaveLength(5);
  });
});
