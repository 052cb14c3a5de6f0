import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { FileDescription } from "../ports/metadata-writer.js";

/** XMP namespaces read and written here; prefixes in files vary, so names are resolved by namespace URI. */
export const NS = {
  x: "adobe:ns:meta/",
  rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
  dc: "http://purl.org/dc/elements/1.1/",
  xmp: "http://ns.adobe.com/xap/1.0/",
  photoshop: "http://ns.adobe.com/photoshop/1.0/",
  lr: "http://ns.adobe.com/lightroom/1.0/",
  Iptc4xmpCore: "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
} as const;

/** Larger XMP is refused unread: real packets, develop settings included, stay far below this. */
export const MAX_XMP_BYTES = 1024 * 1024;
const MAX_NESTING = 64;

/** Simple and language-alternative values of one XMP property, as found (uncleaned). */
export interface XmpValues {
  /** `{namespace}name` -> its values (one for simple properties and Alt's chosen language, several for Bag/Seq). */
  get(namespace: string, name: string): string[];
}

type OrderedNode = Record<string, unknown> & { ":@"?: Record<string, string> };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  preserveOrder: true,
  trimValues: true,
  parseTagValue: false,
  parseAttributeValue: false,
  // No DOCTYPE gets this far (refused below), so only XML's five predefined entities are ever replaced.
  processEntities: true,
  maxNestedTags: MAX_NESTING,
});

/** Numeric character references (&#233; &#x1F600;), which the parser leaves as they are. */
function decodeCharacterReferences(text: string): string {
  return text.replace(/&#(x[0-9a-f]{1,6}|\d{1,7});/gi, (whole, code: string) => {
    const point = code[0] === "x" || code[0] === "X" ? Number.parseInt(code.slice(1), 16) : Number(code);
    return point > 0 && point <= 0x10ffff ? String.fromCodePoint(point) : whole;
  });
}

const ENCODINGS = [
  { encoding: "utf8", units: (text: string) => Buffer.from(text, "utf8") },
  { encoding: "utf16le", units: (text: string) => Buffer.from(text, "utf16le") },
  { encoding: "utf16be", units: (text: string) => Buffer.from(text, "utf16le").swap16() },
] as const;

function decode(bytes: Buffer, encoding: (typeof ENCODINGS)[number]["encoding"]): string {
  if (encoding === "utf16be") return Buffer.from(bytes).swap16().toString("utf16le");
  return bytes.toString(encoding);
}

/**
 * Finds the first XMP packet in a file of any format (XMP's "packet scanning": the packet is stored whole in
 * JPEG, TIFF, PNG, WebP, HEIF and RAW containers alike, in UTF-8 or, rarely, UTF-16). Null when there is none.
 */
export function findXmpPacket(bytes: Buffer): { xml: string } | { tooLarge: number } | null {
  for (const { encoding, units } of ENCODINGS) {
    for (const [opening, closing] of [
      ["<x:xmpmeta", "</x:xmpmeta>"],
      ["<x:xapmeta", "</x:xapmeta>"],
      ["<rdf:RDF", "</rdf:RDF>"],
    ] as const) {
      const start = bytes.indexOf(units(opening));
      if (start < 0) continue;
      const end = bytes.indexOf(units(closing), start);
      const stop = end < 0 ? bytes.length : end + units(closing).length;
      if (stop - start > MAX_XMP_BYTES) return { tooLarge: stop - start };
      return { xml: decode(bytes.subarray(start, stop), encoding) };
    }
  }
  return null;
}

/**
 * Parses an XMP packet without executing anything in it: a DOCTYPE (where entity expansion attacks live) is
 * refused, nesting is limited, and malformed XML is reported rather than guessed at.
 * Throws an Error whose message says what is wrong.
 */
export function parseXmp(xml: string): XmpValues {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw new Error("it declares a DOCTYPE or entities, which XMP forbids");
  // Entities declared outside the packet (a DOCTYPE before it) are never expanded: their use is refused.
  if (/&(?!(?:amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-f]{1,6});)/i.test(xml)) {
    throw new Error("it uses entity references that XMP cannot have (DOCTYPE entities)");
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new Error(`it is not well-formed XML (${valid.err.msg.slice(0, 120)}, line ${valid.err.line})`);
  }
  let tree: OrderedNode[];
  try {
    tree = parser.parse(xml) as OrderedNode[];
  } catch (error) {
    throw new Error(`it could not be read (${error instanceof Error ? error.message : String(error)})`);
  }
  const values = new Map<string, string[]>();
  const add = (key: string, list: string[]) => {
    const cleaned = list.map(decodeCharacterReferences).filter((v) => v.trim());
    if (cleaned.length && !values.has(key)) values.set(key, cleaned);
  };
  walk(
    tree,
    new Map(),
    (element, attributes, scope) => {
      if (resolve(element, scope) !== `${NS.rdf}Description`) return false;
      // Simple properties may be written as attributes of rdf:Description.
      for (const [name, value] of Object.entries(attributes)) {
        if (name.startsWith("xmlns") || !name.includes(":")) continue;
        add(resolve(name, scope), [value]);
      }
      return true;
    },
    add,
  );
  return { get: (namespace, name) => values.get(`${namespace}${name}`) ?? [] };
}

/** Expands `prefix:name` to `namespace-uri` + name with the declarations in scope. */
function resolve(qualified: string, scope: Map<string, string>): string {
  const colon = qualified.indexOf(":");
  if (colon < 0) return qualified;
  return `${scope.get(qualified.slice(0, colon)) ?? `${qualified.slice(0, colon)}:`}${qualified.slice(colon + 1)}`;
}

function elementName(node: OrderedNode): string | null {
  return Object.keys(node).find((k) => k !== ":@" && k !== "#text") ?? null;
}

function children(node: OrderedNode, name: string): OrderedNode[] {
  const value = node[name];
  return Array.isArray(value) ? (value as OrderedNode[]) : [];
}

function textOf(nodes: OrderedNode[]): string {
  return nodes
    .map((n) => (typeof n["#text"] === "string" || typeof n["#text"] === "number" ? String(n["#text"]) : ""))
    .join("");
}

function withDeclarations(scope: Map<string, string>, attributes: Record<string, string>) {
  let next = scope;
  for (const [name, value] of Object.entries(attributes)) {
    if (!name.startsWith("xmlns:")) continue;
    if (next === scope) next = new Map(scope);
    next.set(name.slice("xmlns:".length), value);
  }
  return next;
}

/**
 * Walks the tree; at each rdf:Description (told by `onDescription`), its child properties are read: a plain
 * value, or the items of an rdf:Alt (x-default first), rdf:Bag or rdf:Seq.
 */
function walk(
  nodes: OrderedNode[],
  scope: Map<string, string>,
  onDescription: (element: string, attributes: Record<string, string>, scope: Map<string, string>) => boolean,
  add: (key: string, values: string[]) => void,
): void {
  for (const node of nodes) {
    const name = elementName(node);
    if (!name) continue;
    const attributes = node[":@"] ?? {};
    const inner = withDeclarations(scope, attributes);
    if (onDescription(name, attributes, inner)) {
      for (const property of children(node, name)) {
        const propertyName = elementName(property);
        if (!propertyName) continue;
        const propertyScope = withDeclarations(inner, property[":@"] ?? {});
        add(
          resolve(propertyName, propertyScope),
          propertyValues(children(property, propertyName), propertyScope),
        );
      }
    }
    walk(children(node, name), inner, onDescription, add);
  }
}

function propertyValues(content: OrderedNode[], scope: Map<string, string>): string[] {
  const container = content.find((n) => {
    const name = elementName(n);
    return name !== null && [`${NS.rdf}Alt`, `${NS.rdf}Bag`, `${NS.rdf}Seq`].includes(resolve(name, scope));
  });
  if (!container) return [textOf(content)];
  const containerName = elementName(container)!;
  const items = children(container, containerName).filter((n) => {
    const name = elementName(n);
    return name !== null && resolve(name, scope) === `${NS.rdf}li`;
  });
  const texts = items.map((item) => ({
    text: textOf(children(item, elementName(item)!)),
    lang: item[":@"]?.["xml:lang"],
  }));
  if (resolve(containerName, scope) === `${NS.rdf}Alt`) {
    const chosen = texts.find((t) => t.lang === "x-default") ?? texts[0];
    return chosen ? [chosen.text] : [];
  }
  return texts.map((t) => t.text);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

/** Text as XML character data: markup escaped, and characters XML 1.0 cannot carry removed. */
export function xmlText(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, "")
    .replace(/[&<>"]/g, (c) => ESCAPES[c]!);
}

const alt = (value: string) => `<rdf:Alt><rdf:li xml:lang="x-default">${xmlText(value)}</rdf:li></rdf:Alt>`;
const bag = (values: readonly string[]) =>
  `<rdf:Bag>${values.map((v) => `<rdf:li>${xmlText(v)}</rdf:li>`).join("")}</rdf:Bag>`;

/** An XMP sidecar (a complete packet) with the given fields; empty fields are left out. */
export function buildXmp(fields: FileDescription): string {
  const properties = [
    fields.title ? `   <dc:title>${alt(fields.title)}</dc:title>` : null,
    fields.description ? `   <dc:description>${alt(fields.description)}</dc:description>` : null,
    fields.keywords.length ? `   <dc:subject>${bag(fields.keywords)}</dc:subject>` : null,
    fields.hierarchicalSubjects.length
      ? `   <lr:hierarchicalSubject>${bag(fields.hierarchicalSubjects)}</lr:hierarchicalSubject>`
      : null,
    fields.altText
      ? `   <Iptc4xmpCore:AltTextAccessibility>${alt(fields.altText)}</Iptc4xmpCore:AltTextAccessibility>`
      : null,
    fields.visibleText
      ? `   <Iptc4xmpCore:ExtDescrAccessibility>${alt(fields.visibleText)}</Iptc4xmpCore:ExtDescrAccessibility>`
      : null,
  ].filter((p): p is string => p !== null);
  return [
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    `<x:xmpmeta xmlns:x="${NS.x}" x:xmptk="Photocat">`,
    ` <rdf:RDF xmlns:rdf="${NS.rdf}">`,
    `  <rdf:Description rdf:about=""`,
    `    xmlns:dc="${NS.dc}"`,
    `    xmlns:lr="${NS.lr}"`,
    `    xmlns:Iptc4xmpCore="${NS.Iptc4xmpCore}">`,
    ...properties,
    "  </rdf:Description>",
    " </rdf:RDF>",
    "</x:xmpmeta>",
    '<?xpacket end="w"?>',
    "",
  ].join("\n");
}
