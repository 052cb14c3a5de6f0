import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageJson } from "../../src/api/present.js";
import { loadConfig } from "../../src/config.js";
import { type Running, run } from "../../src/entry/runtime.js";
import { silentLogger } from "../../src/logger.js";
import { inspectStore } from "./support/consistency.js";
import {
  type FakeAnswer,
  type FakeProvider,
  fakeProviderEnv,
  startFakeProvider,
} from "./support/fake-provider.js";
import { generatedPhoto } from "./support/photos.js";

const BOUNDARY = "----photocat-fault-boundary";
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point
const CONTROL_OR_BIDI = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const HOSTILE_ANSWER: FakeAnswer = {
  summary: `<script>alert("summary")</script> Hills & a "quoted" <b>word</b>`,
  category: "nature",
  tags: ["<img src=x onerror=alert(1)>", "hills"],
  alt_text: `"><svg onload=alert('alt')>`,
  text: "</script><script>alert('text')</script>",
  confidence: 0.7,
};

interface Part {
  /** Raw header lines, written byte for byte (latin1). */
  headers: string;
  body: Buffer;
}

/** A multipart body built by hand, so names and headers can be as hostile as an attacker makes them. */
function multipart(parts: Part[]): Buffer {
  return Buffer.concat([
    ...parts.flatMap((p) => [
      Buffer.from(`--${BOUNDARY}\r\n${p.headers}\r\n\r\n`, "latin1"),
      p.body,
      Buffer.from("\r\n", "latin1"),
    ]),
    Buffer.from(`--${BOUNDARY}--\r\n`, "latin1"),
  ]);
}

function filePart(disposition: string, body: Buffer): Part {
  return {
    headers: `Content-Disposition: form-data; name="file"; ${disposition}\r\nContent-Type: image/jpeg`,
    body,
  };
}

async function post(url: string, body: Buffer): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}/api/images`, {
    method: "POST",
    headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
    body: new Uint8Array(body),
  });
  const text = await response.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { notJson: text.slice(0, 200) };
  }
  return { status: response.status, json };
}

describe("hostile names, multipart bodies and model text", () => {
  let dataDir = "";
  let provider: FakeProvider;
  let running: Running;
  let url = "";
  let seed = 30_000;
  const photo = () => generatedPhoto(seed++, { width: 320, height: 240 });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "photocat-faults-hostile-"));
    provider = await startFakeProvider({ answer: HOSTILE_ANSWER });
    const config = loadConfig(fakeProviderEnv(provider), {
      PHOTOCAT_DATA_DIR: dataDir,
      PHOTOCAT_PORT: "0",
      PHOTOCAT_MAX_UPLOAD_MB: "2",
    });
    running = await run(config, { http: true, worker: true, logger: silentLogger(), pollMs: 100 });
    url = running.url!;
  });
  afterAll(async () => {
    await running?.close();
    await provider?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("keeps hostile file names as harmless display text and stores files under their own ids", async () => {
    const cases: { disposition: string; expected?: string | RegExp }[] = [
      { disposition: `filename="../../../../etc/passwd.jpg"`, expected: "passwd.jpg" },
      { disposition: `filename="..\\..\\Windows\\System32\\evil.jpg"`, expected: "evil.jpg" },
      // RFC 5987 encoding smuggles what a plain header cannot: CR LF, NUL, escape sequences.
      {
        disposition: `filename*=utf-8''..%2F..%2Fx%0D%0ASet-Cookie%3A%20a%3Db%00%1B%5B31m.jpg`,
        expected: /^x ?Set-Cookie: a=b\[31m\.jpg$/,
      },
      { disposition: `filename=".."`, expected: "unnamed" },
      { disposition: `filename*=utf-8''photo%E2%80%AEgpj.exe` },
      { disposition: `filename="${"a".repeat(5000)}.jpg"` },
      // Markup stays text; its "/" makes everything before it a folder, which is dropped.
      { disposition: `filename="<b onmouseover=alert(1)>x</b>.jpg"`, expected: "b>.jpg" },
      {
        disposition: `filename="<img src=x onerror=alert(1)>.jpg"`,
        expected: "<img src=x onerror=alert(1)>.jpg",
      },
    ];
    for (const c of cases) {
      const { status, json } = await post(url, multipart([filePart(c.disposition, await photo())]));
      expect(status, c.disposition.slice(0, 80)).toBe(201);
      const image = (json.images as ImageJson[])[0]!;
      const name = image.original_name;
      if (typeof c.expected === "string") expect(name).toBe(c.expected);
      else if (c.expected) expect(name).toMatch(c.expected);
      expect(name).not.toMatch(/[/\\]/);
      expect(name).not.toMatch(CONTROL_OR_BIDI);
      expect(name.length).toBeLessThanOrEqual(255);
      // A download names the file in a header: it must stay one well-formed header.
      const original = await fetch(`${url}${image.original}`);
      expect(original.status).toBe(200);
      const disposition = original.headers.get("content-disposition") ?? "";
      expect(disposition).not.toMatch(CONTROL_OR_BIDI);
      expect(disposition).toMatch(/^inline; filename="[^"]*"; filename\*=UTF-8''[^\s"]+$/);
    }
    // Nothing was written where the names pointed.
    const everything = await readdir(path.dirname(dataDir), { recursive: true }).catch(() => [] as string[]);
    expect(everything.filter((f) => /passwd\.jpg|evil\.jpg/.test(f))).toEqual([]);
  });

  it("answers huge fields, too many parts and broken bodies with clear 4xx errors and keeps nothing", async () => {
    const before = ((await (await fetch(`${url}/api/stats`)).json()) as { images: number }).images;
    const field = (name: string, value: string | Buffer): Part => ({
      headers: `Content-Disposition: form-data; name="${name}"`,
      body: Buffer.isBuffer(value) ? value : Buffer.from(value),
    });
    const tiny = await photo();
    const attempts: { what: string; body: Buffer; status: number[]; code?: string }[] = [
      {
        what: "a 5 MB text field beside the photo (ignored)",
        body: multipart([
          field("note", Buffer.alloc(5 * 1024 * 1024, "x")),
          filePart(`filename="ok.jpg"`, tiny),
        ]),
        status: [201],
      },
      {
        what: "5,000 text fields before the photo",
        body: multipart([
          ...Array.from({ length: 5000 }, (_, i) => field(`f${i}`, "v")),
          filePart(`filename="late.jpg"`, await photo()),
        ]),
        status: [400, 413],
      },
      {
        what: "300 files in one request",
        body: multipart(Array.from({ length: 300 }, (_, i) => filePart(`filename="p${i}.jpg"`, tiny))),
        status: [400, 413],
        code: "invalid_request",
      },
      {
        what: "a file over the size limit",
        body: multipart([filePart(`filename="big.jpg"`, Buffer.alloc(3 * 1024 * 1024, 0xff))]),
        status: [413],
        code: "file_too_large",
      },
      {
        what: "a 100 KB part header",
        body: multipart([filePart(`filename="${"b".repeat(100_000)}.jpg"`, await photo())]),
        status: [400, 413, 431],
      },
      {
        what: "a body cut off in the middle",
        body: multipart([filePart(`filename="cut.jpg"`, await photo())]).subarray(0, 3000),
        status: [400],
        code: "invalid_request",
      },
      { what: "no multipart structure at all", body: Buffer.from("just some bytes"), status: [400] },
    ];
    for (const attempt of attempts) {
      const { status, json } = await post(url, attempt.body);
      expect(attempt.status, `${attempt.what}: ${status} ${JSON.stringify(json).slice(0, 200)}`).toContain(
        status,
      );
      if (status >= 400) {
        const error = json.error as { code?: string; message?: string } | undefined;
        expect(error?.message, attempt.what).toBeTruthy();
        if (attempt.code) expect(error?.code, attempt.what).toBe(attempt.code);
      }
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const after = ((await (await fetch(`${url}/api/stats`)).json()) as { images: number }).images;
    expect(after - before).toBe(1); // only the photo beside the huge text field
    // Every temporary upload file was removed.
    expect(await readdir(path.join(dataDir, "tmp")).catch(() => [])).toEqual([]);
  });

  it("stores a model answer holding HTML and script as plain text and serves it only as JSON", async () => {
    const { json } = await post(url, multipart([filePart(`filename="hills.jpg"`, await photo())]));
    const id = (json.images as ImageJson[])[0]!.id;
    const deadline = Date.now() + 30_000;
    let image: ImageJson;
    let response: Response;
    do {
      await new Promise((r) => setTimeout(r, 100));
      response = await fetch(`${url}/api/images/${id}`);
      image = (await response.json()) as ImageJson;
    } while (image.status !== "done" && image.status !== "failed" && Date.now() < deadline);
    expect(image.status).toBe("done");
    // Kept as the text it is (the gallery escapes it when showing it), never interpreted or half-escaped.
    expect(image.summary).toBe(HOSTILE_ANSWER.summary);
    expect(image.tags).toContain("<img src=x onerror=alert(1)>");
    expect(image.alt_text).toBe(HOSTILE_ANSWER.alt_text);
    expect(image.text).toBe(HOSTILE_ANSWER.text);
    // Served as JSON that a browser will not sniff into HTML, under a policy that forbids inline script.
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    // Search treats the markup as words, not syntax.
    const found = (await (
      await fetch(`${url}/api/images?q=${encodeURIComponent('<script>"alert')}`)
    ).json()) as {
      items: ImageJson[];
    };
    expect(found.items.map((i) => i.id)).toContain(id);
  });

  it("leaves a consistent store behind", async () => {
    await running.close();
    const store = await inspectStore(dataDir);
    expect(store.problems).toEqual([]);
    expect(store.strangeKeys).toEqual([]);
    expect(store.orphanKeys).toEqual([]);
  });
});
