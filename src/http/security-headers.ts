import { secureHeaders } from "hono/secure-headers";

/**
 * The headers every response carries: a strict CSP (the gallery loads nothing from elsewhere and runs no
 * inline script), no framing, no sniffing, no referrer. hono's other defaults are off: HSTS belongs to the
 * TLS proxy, and Cross-Origin-Resource-Policy would break pages of PHOTOCAT_CORS_ORIGINS showing our images.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:", "blob:"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
} as const;

export type CspDirective = keyof typeof CONTENT_SECURITY_POLICY;

/**
 * The same policy as a header value, with sources added to some directives: the AWS stack serves the
 * gallery from CloudFront and lets it reach its photo and upload buckets.
 */
export function contentSecurityPolicyHeader(extra: Partial<Record<CspDirective, string[]>> = {}): string {
  return Object.entries(CONTENT_SECURITY_POLICY)
    .map(([name, sources]) => {
      const all = [...sources, ...(extra[name as CspDirective] ?? [])];
      return `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${all.join(" ")}`;
    })
    .join("; ");
}

export const securityHeaders = () =>
  secureHeaders({
    contentSecurityPolicy: Object.fromEntries(
      Object.entries(CONTENT_SECURITY_POLICY).map(([name, sources]) => [name, [...sources]]),
    ),
    xContentTypeOptions: "nosniff",
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
    crossOriginOpenerPolicy: "same-origin",
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    strictTransportSecurity: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
