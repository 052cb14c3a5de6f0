import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface StoredObject {
  body: Buffer;
  contentType: string;
  etag: string;
  modified: Date;
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * The few S3 calls the blob store makes (path style, no auth), in memory: enough to run the blob
 * contract through the real AWS SDK. Lists in pages of `pageSize` so continuation is exercised.
 */
export async function startS3Server(options: { bucket: string; pageSize?: number }) {
  const objects = new Map<string, StoredObject>();
  const pageSize = options.pageSize ?? 1000;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://localhost");
    const [, bucket = "", ...rest] = url.pathname.split("/");
    if (bucket !== options.bucket) {
      res.writeHead(404, { "content-type": "application/xml" });
      res.end("<Error><Code>NoSuchBucket</Code></Error>");
      return;
    }
    const key = rest.map(decodeURIComponent).join("/");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);

    if (!key && req.method === "GET") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const after = url.searchParams.get("continuation-token") ?? "";
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = keys.slice(0, pageSize);
      const truncated = keys.length > page.length;
      res.writeHead(200, { "content-type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name>` +
          `<Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount>` +
          `<IsTruncated>${truncated}</IsTruncated>` +
          (truncated ? `<NextContinuationToken>${xmlEscape(page.at(-1)!)}</NextContinuationToken>` : "") +
          page
            .map(
              (k) =>
                `<Contents><Key>${xmlEscape(k)}</Key><Size>${objects.get(k)!.body.length}</Size></Contents>`,
            )
            .join("") +
          "</ListBucketResult>",
      );
      return;
    }
    const object = objects.get(key);
    switch (req.method) {
      case "PUT": {
        const body = Buffer.concat(chunks);
        const etag = `"${createHash("md5").update(body).digest("hex")}"`;
        objects.set(key, {
          body,
          contentType: req.headers["content-type"] ?? "application/octet-stream",
          etag,
          modified: new Date(),
        });
        res.writeHead(200, { etag });
        res.end();
        return;
      }
      case "GET":
      case "HEAD": {
        if (!object) {
          res.writeHead(404, { "content-type": "application/xml" });
          res.end(req.method === "GET" ? "<Error><Code>NoSuchKey</Code><Message>none</Message></Error>" : "");
          return;
        }
        res.writeHead(200, {
          "content-type": object.contentType,
          "content-length": object.body.length,
          etag: object.etag,
          "last-modified": object.modified.toUTCString(),
        });
        res.end(req.method === "GET" ? object.body : undefined);
        return;
      }
      case "DELETE":
        objects.delete(key);
        res.writeHead(204);
        res.end();
        return;
      default:
        res.writeHead(405);
        res.end();
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
