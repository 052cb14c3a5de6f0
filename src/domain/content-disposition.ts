/** A file name for the browser: ASCII in filename, the real name in filename* (RFC 6266). */
export function contentDisposition(name: string, kind: "inline" | "attachment" = "inline"): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
