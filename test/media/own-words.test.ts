import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../../src/domain/analysis.js";
import {
  mergeOwnWords,
  readEmbeddedWords,
  readSidecars,
  readTakeoutSidecar,
  readXmpSidecar,
} from "../../src/media/own-words.js";
import { buildXmp, findXmpPacket, parseXmp } from "../../src/media/xmp.js";
import { sidecarsAmong } from "../../src/services/sidecars.js";

const xmp = (body: string, namespaces = 'xmlns:dc="http://purl.org/dc/elements/1.1/"') =>
  `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" ${namespaces}>${body}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;

const words = (text: string) => {
  const notes: string[] = [];
  const reading = readXmpSidecar(Buffer.from(text), "photo.xmp");
  notes.push(...reading.notes);
  return { own: mergeOwnWords(reading.found, notes), notes };
};

describe("reading XMP", () => {
  it("reads title, description, keywords and alt text, the x-default language first", () => {
    const { own, notes } = words(
      xmp(
        `<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour</rdf:li></rdf:Alt></dc:title>
         <dc:description><rdf:Alt><rdf:li xml:lang="fr">Le port</rdf:li><rdf:li xml:lang="x-default">Boats at dusk &amp; gulls &#233;t&#xE9;</rdf:li></rdf:Alt></dc:description>
         <dc:subject><rdf:Bag><rdf:li>boats</rdf:li><rdf:li>Gulls</rdf:li><rdf:li>gulls</rdf:li></rdf:Bag></dc:subject>
         <Iptc4xmpCore:AltTextAccessibility><rdf:Alt><rdf:li xml:lang="x-default">Boats moored at dusk</rdf:li></rdf:Alt></Iptc4xmpCore:AltTextAccessibility>`,
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"',
      ),
    );
    expect(notes).toEqual([]);
    expect(own).toEqual({
      title: "Harbour",
      description: "Boats at dusk & gulls été",
      keywords: ["boats", "Gulls"],
      altText: "Boats moored at dusk",
      sources: ["xmp sidecar"],
    });
  });

  it("resolves namespaces by URI, not by prefix, and reads properties written as attributes", () => {
    const { own } = words(
      xmp(
        `<d:description><rdf:Alt><rdf:li xml:lang="x-default">Caption</rdf:li></rdf:Alt></d:description>
         <dc:subject><rdf:Bag><rdf:li>not dublin core</rdf:li></rdf:Bag></dc:subject>`,
        'xmlns:d="http://purl.org/dc/elements/1.1/" xmlns:dc="urn:something-else" xmlns:ps="http://ns.adobe.com/photoshop/1.0/" ps:Headline="Headline as attribute"',
      ),
    );
    expect(own).toMatchObject({ title: "Headline as attribute", description: "Caption", keywords: [] });
  });

  it("reads UTF-16 packets", () => {
    const packet = Buffer.from(
      xmp(`<dc:description><rdf:Alt><rdf:li xml:lang="x-default">wide</rdf:li></rdf:Alt></dc:description>`),
      "utf16le",
    );
    const found = findXmpPacket(Buffer.concat([Buffer.from("junk"), packet.swap16()]));
    expect(
      found && "xml" in found && parseXmp(found.xml).get("http://purl.org/dc/elements/1.1/", "description"),
    ).toEqual(["wide"]);
  });

  it("refuses entity expansion, broken XML and deep nesting with a note, and executes nothing", () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>${xmp("<dc:description><rdf:Alt><rdf:li>&b;</rdf:li></rdf:Alt></dc:description>")}`;
    const external = xmp(
      `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><dc:description><rdf:Alt><rdf:li>&e;</rdf:li></rdf:Alt></dc:description>`,
    );
    const broken = xmp("<dc:description><rdf:Alt><rdf:li>unclosed</rdf:Alt></dc:description>");
    const deep = xmp(`${"<dc:x>".repeat(500)}deep${"</dc:x>".repeat(500)}`);
    for (const [packet, reason] of [
      [laughs, /DOCTYPE entities/],
      [external, /DOCTYPE/],
      [broken, /not well-formed/],
      [deep, /could not be read/],
    ] as const) {
      const { own, notes } = words(packet);
      expect(own).toBeNull();
      expect(notes).toEqual([expect.stringMatching(reason)]);
      expect(notes[0]).toMatch(/^the sidecar photo\.xmp was not read: /);
    }
  });

  it("caps huge fields and strips control characters, saying what was cut", () => {
    const huge = "word ".repeat(5000);
    const { own, notes } = words(
      xmp(
        `<dc:description><rdf:Alt><rdf:li xml:lang="x-default">${huge}</rdf:li></rdf:Alt></dc:description>
         <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Bad&#x202E;title&#7;</rdf:li></rdf:Alt></dc:title>
         <dc:subject><rdf:Bag>${Array.from({ length: 80 }, (_, i) => `<rdf:li>k${i}</rdf:li>`).join("")}</rdf:Bag></dc:subject>`,
      ),
    );
    expect(own?.description?.length).toBe(LIMITS.ownDescriptionChars);
    expect(own?.description?.endsWith("…")).toBe(true);
    expect(own?.title).toBe("Badtitle");
    expect(own?.keywords).toHaveLength(LIMITS.ownKeywords);
    expect(notes).toEqual([
      `the description from xmp sidecar was cut to ${LIMITS.ownDescriptionChars} characters`,
      `30 keywords from xmp sidecar past the first ${LIMITS.ownKeywords} were left out`,
    ]);
  });

  it("writes packets it reads back, escaping markup", () => {
    const written = buildXmp({
      title: null,
      description: 'Fish & chips <script>alert("x")</script>',
      keywords: ["food", "a<b"],
      hierarchicalSubjects: ["Photocat|food"],
      altText: "Fish and chips",
      visibleText: "MENU 12 EUR",
    });
    expect(written).not.toContain("<script>");
    const { own } = words(written);
    expect(own).toEqual({
      title: null,
      description: 'Fish & chips <script>alert("x")</script>',
      keywords: ["food", "a<b"],
      altText: "Fish and chips",
      sources: ["xmp sidecar"],
    });
  });
});

describe("reading what a photo file carries", () => {
  it("reads the embedded XMP, and IPTC and EXIF below it, ignoring camera defaults", async () => {
    const withXmp = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#888" } })
      .jpeg()
      .withXmp(xmp(`<dc:subject><rdf:Bag><rdf:li>embedded</rdf:li></rdf:Bag></dc:subject>`))
      .withExif({ IFD0: { ImageDescription: "A caption typed in the camera app" } })
      .toBuffer();
    const reading = await readEmbeddedWords(withXmp);
    const notes = [...reading.notes];
    expect(mergeOwnWords(reading.found, notes)).toEqual({
      title: null,
      description: "A caption typed in the camera app",
      keywords: ["embedded"],
      altText: null,
      sources: ["exif", "xmp"],
    });
    const camera = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#888" } })
      .jpeg()
      .withExif({ IFD0: { ImageDescription: "OLYMPUS DIGITAL CAMERA" } })
      .toBuffer();
    const fromCamera = await readEmbeddedWords(camera);
    expect(mergeOwnWords(fromCamera.found, [])).toBeNull();
  });
});

describe("Google Takeout sidecars", () => {
  it("reads the caption, capture time and place; 0,0 means no place", () => {
    const json = (geo: object) =>
      Buffer.from(
        JSON.stringify({
          title: "IMG_1234.jpg",
          description: "Grandma's 90th",
          photoTakenTime: { timestamp: "1556971205", formatted: "4 May 2019" },
          geoData: geo,
          geoDataExif: { latitude: 0, longitude: 0, altitude: 0 },
        }),
      );
    const reading = readTakeoutSidecar(
      json({ latitude: 43.4832, longitude: -1.5586, altitude: 5 }),
      "x.json",
    );
    expect(reading.found).toEqual([{ source: "takeout", description: "Grandma's 90th" }]);
    expect(reading.takeout).toEqual({
      takenAt: "2019-05-04T12:00:05Z",
      gps: { latitude: 43.4832, longitude: -1.5586, altitude: 5 },
    });
    expect(readTakeoutSidecar(json({ latitude: 0, longitude: 0 }), "x.json").takeout?.gps).toBeNull();
  });

  it("turns broken or foreign JSON into a note", () => {
    expect(readTakeoutSidecar(Buffer.from("{not json"), "a.json").notes).toEqual([
      "the sidecar a.json was not read: not valid JSON",
    ]);
    expect(
      readTakeoutSidecar(Buffer.from(`${"[".repeat(200_000)}${"]".repeat(200_000)}`), "b.json").notes,
    ).toEqual([expect.stringMatching(/^the sidecar b\.json (was not read|is not a Google Takeout)/)]);
    expect(readTakeoutSidecar(Buffer.from('{"photoTakenTime":"soon"}'), "c.json").notes).toEqual([
      "the sidecar c.json is not a Google Takeout photo description",
    ]);
  });
});

describe("sidecar files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "photocat-sidecars-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("pairs photos with name.xmp, name.ext.xmp and Takeout's names, cut and numbered", () => {
    const names = [
      "IMG_1.xmp",
      "IMG_1.JPG.xmp",
      "IMG_1.JPG.json",
      "IMG_2.jpg.supplemental-metadata.json",
      "IMG_3.jpg.supplemental-met.json",
      "IMG_4.jpg(1).json",
      "IMG_5.jpg.json",
      "PXL_20230506_123456789_a_very_long_name_indeed.json",
      "IMG_6.j.json",
    ];
    const of = (photo: string) => sidecarsAmong(`/p/${photo}`, names).map((f) => path.basename(f));
    expect(of("IMG_1.JPG")).toEqual(["IMG_1.xmp", "IMG_1.JPG.xmp", "IMG_1.JPG.json"]);
    expect(of("IMG_2.jpg")).toEqual(["IMG_2.jpg.supplemental-metadata.json"]);
    expect(of("IMG_3.jpg")).toEqual(["IMG_3.jpg.supplemental-met.json"]);
    expect(of("IMG_4(1).jpg")).toEqual(["IMG_4.jpg(1).json"]);
    expect(of("IMG_5-edited.jpg")).toEqual(["IMG_5.jpg.json"]);
    expect(of("PXL_20230506_123456789_a_very_long_name_indeed_and_more.jpg")).toEqual([
      "PXL_20230506_123456789_a_very_long_name_indeed.json",
    ]);
    expect(of("IMG_6.jpg")).toEqual([]);
  });

  it("reads sidecars, XMP before Takeout, and notes the ones that cannot be read", async () => {
    const xmpFile = path.join(dir, "a.xmp");
    const jsonFile = path.join(dir, "a.jpg.json");
    const big = path.join(dir, "big.xmp");
    await writeFile(
      xmpFile,
      xmp(`<dc:description><rdf:Alt><rdf:li>from xmp</rdf:li></rdf:Alt></dc:description>`),
    );
    await writeFile(
      jsonFile,
      JSON.stringify({ description: "from takeout", photoTakenTime: { timestamp: 1 } }),
    );
    await writeFile(big, Buffer.alloc(2 * 1024 * 1024, 32));
    const reading = await readSidecars([jsonFile, xmpFile, big, path.join(dir, "gone.xmp")]);
    expect(mergeOwnWords(reading.found, [])?.description).toBe("from xmp");
    expect(reading.takeout?.takenAt).toBe("1970-01-01T00:00:01Z");
    expect(reading.notes).toEqual([
      "the sidecar big.xmp is over 1 MB and was not read",
      "the sidecar gone.xmp could not be read (ENOENT)",
    ]);
  });
});
