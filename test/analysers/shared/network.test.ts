import { describe, expect, it } from "vitest";
import { isNetworkError, rootCause, unreachable } from "../../../src/analysers/shared/network.js";

/** The shape undici and the SDKs give a DNS failure: wrapper, "fetch failed", then the system error. */
function dnsFailure(): Error {
  const system = Object.assign(new Error("getaddrinfo ENOTFOUND api.anthropic.com"), { code: "ENOTFOUND" });
  const fetchFailed = new TypeError("fetch failed", { cause: system });
  return new Error("Connection error.", { cause: fetchFailed });
}

describe("network failures", () => {
  it("keeps the root cause of a wrapped error", () => {
    expect(rootCause(dnsFailure())).toBe("getaddrinfo ENOTFOUND api.anthropic.com");
    expect(unreachable("Anthropic", dnsFailure())).toEqual({
      retryable: true,
      reason: "could not reach Anthropic: getaddrinfo ENOTFOUND api.anthropic.com",
    });
  });

  it("reads an AggregateError's first error, adds a code the message lacks, keeps the first line", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const aggregate = Object.assign(new AggregateError([refused], ""), { code: "ECONNREFUSED" });
    expect(rootCause(new TypeError("fetch failed", { cause: aggregate }))).toBe(
      "connect ECONNREFUSED 127.0.0.1:1",
    );
    expect(rootCause(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }))).toBe(
      "other side closed (UND_ERR_SOCKET)",
    );
    expect(rootCause(new Error("Stream closed\n  Deserialization error: see $response"))).toBe(
      "Stream closed",
    );
  });

  it("tells network failures from other errors, however deep the cause", () => {
    expect(isNetworkError(dnsFailure())).toBe(true);
    const h2 = Object.assign(new Error("The pending stream has been canceled"), {
      code: "ERR_HTTP2_STREAM_CANCEL",
    });
    expect(isNetworkError(h2)).toBe(true);
    expect(isNetworkError(new TypeError("terminated", { cause: { code: "UND_ERR_SOCKET" } }))).toBe(true);
    expect(isNetworkError(new Error("invalid JSON"))).toBe(false);
    const cyclic: { message: string; cause?: unknown } = { message: "loop" };
    cyclic.cause = cyclic;
    expect(isNetworkError(cyclic)).toBe(false);
  });
});
