import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/** Where a request really came from: believed from X-Forwarded-* only when the proxy is trusted. */
export interface RequestOrigin {
  /** The client's address ("unknown" where the runtime does not say, e.g. outside Node). */
  client: string;
  protocol: "http" | "https";
  /** scheme://host[:port] as the browser sees this server, to compare with an Origin header. */
  origin: string;
}

/** IPv4 peers of a dual-stack socket show as ::ffff:a.b.c.d; lists are written with a.b.c.d. */
function plainAddress(address: string): string {
  const trimmed = address.trim().replace(/^\[(.*)\]$/, "$1");
  return trimmed.toLowerCase().startsWith("::ffff:") && trimmed.includes(".") ? trimmed.slice(7) : trimmed;
}

function peerAddress(c: Context): string | null {
  try {
    const address = getConnInfo(c).remote.address;
    return address ? plainAddress(address) : null;
  } catch {
    return null; // not served by @hono/node-server (tests calling app.request, other runtimes)
  }
}

const firstValue = (header: string | undefined) => header?.split(",")[0]?.trim().toLowerCase() || null;

/**
 * `trusted` is PHOTOCAT_TRUSTED_PROXY: true believes one proxy in front (whatever its address), a list
 * believes only those peers, false ignores forwarded headers (anyone could send them).
 */
export function requestOrigin(c: Context, trusted: boolean | readonly string[]): RequestOrigin {
  const url = new URL(c.req.url);
  const peer = peerAddress(c);
  const believed = trusted === true || (Array.isArray(trusted) && peer !== null && trusted.includes(peer));
  let client = peer ?? "unknown";
  let protocol: "http" | "https" = url.protocol === "https:" ? "https" : "http";
  let host = url.host;
  if (believed) {
    // Each proxy appends the address it saw: walk from the right past our own proxies to the client.
    const hops = (c.req.header("x-forwarded-for") ?? "").split(",").map(plainAddress).filter(Boolean);
    if (trusted === true) client = hops.at(-1) ?? client;
    else client = [...hops].reverse().find((hop) => !trusted.includes(hop)) ?? hops[0] ?? client;
    const proto = firstValue(c.req.header("x-forwarded-proto"));
    if (proto === "https" || proto === "http") protocol = proto;
    host = firstValue(c.req.header("x-forwarded-host")) ?? host;
  }
  return { client, protocol, origin: `${protocol}://${host}` };
}
