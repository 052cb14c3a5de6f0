import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { type RequestOrigin, requestOrigin } from "../../src/http/proxy.js";

/** What requestOrigin says of a request from `peer` (the socket's address) with these headers. */
async function seen(
  trusted: boolean | string[],
  peer: string | null,
  headers: Record<string, string> = {},
  url = "http://photos.internal:3000/api/images",
): Promise<RequestOrigin> {
  const app = new Hono();
  app.get("*", (c) => c.json(requestOrigin(c, trusted)));
  const env = peer === null ? {} : { incoming: { socket: { remoteAddress: peer } } };
  return (await app.request(url, { headers }, env)).json() as Promise<RequestOrigin>;
}

const forwarded = {
  "x-forwarded-for": "203.0.113.9, 10.0.0.3",
  "x-forwarded-proto": "https",
  "x-forwarded-host": "photos.example",
};

describe("requestOrigin", () => {
  it("ignores forwarded headers unless the proxy is trusted", async () => {
    expect(await seen(false, "10.0.0.2", forwarded)).toEqual({
      client: "10.0.0.2",
      protocol: "http",
      origin: "http://photos.internal:3000",
    });
    expect(await seen(["10.0.0.9"], "10.0.0.2", forwarded)).toMatchObject({
      client: "10.0.0.2",
      protocol: "http",
    });
  });

  it("with one trusted proxy, believes the last hop it added", async () => {
    expect(await seen(true, "10.0.0.2", forwarded)).toEqual({
      client: "10.0.0.3",
      protocol: "https",
      origin: "https://photos.example",
    });
    expect(await seen(true, "10.0.0.2", {})).toMatchObject({ client: "10.0.0.2", protocol: "http" });
  });

  it("with a list, walks back past every listed proxy, never believing what the client wrote", async () => {
    const chain = { ...forwarded, "x-forwarded-for": "1.1.1.1, 203.0.113.9, 10.0.0.3" };
    expect(await seen(["10.0.0.2", "10.0.0.3"], "10.0.0.2", chain)).toMatchObject({
      client: "203.0.113.9",
      origin: "https://photos.example",
    });
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    expect(await seen(["10.0.0.2"], "::ffff:10.0.0.2", forwarded)).toMatchObject({ client: "10.0.0.3" });
  });

  it("says unknown where the runtime gives no address", async () => {
    expect(await seen(false, null)).toMatchObject({ client: "unknown" });
  });
});
