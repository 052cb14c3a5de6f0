import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const manifest = (path: string) =>
  JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as {
    version: string;
    engines?: { node?: string };
    dependencies: Record<string, string>;
  };

describe("dependencies and the Node versions the README promises", () => {
  const project = manifest("../package.json");
  const aws = Object.entries(project.dependencies).filter(([name]) => name.startsWith("@aws-sdk/"));

  it("pins the AWS SDK to exact versions, so no install resolves to one that drops Node 20", () => {
    expect(aws.length).toBeGreaterThan(0);
    for (const [name, range] of aws) expect(`${name}@${range}`).toMatch(/@\d+\.\d+\.\d+$/);
  });

  it("installs AWS SDK versions whose own engines accept Node 20.19, and promises Node 20.19+ and 22", () => {
    for (const [name, range] of aws) {
      const installed = manifest(`../node_modules/${name}/package.json`);
      expect(installed.version).toBe(range);
      const minimumMajor = Number(/>=\s*(\d+)/.exec(installed.engines?.node ?? ">=0")?.[1]);
      expect(minimumMajor, `${name} needs Node ${installed.engines?.node}`).toBeLessThanOrEqual(20);
    }
    expect(project.engines?.node).toBe("^20.19.0 || >=22");
  });

  it("pins the vendored ExifTool exactly: exiftool-vendored itself is not used, as its optional Windows package cannot be installed from every registry (npm ci then fails)", () => {
    expect(project.dependencies["exiftool-vendored.pl"]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(project.dependencies["exiftool-vendored"]).toBeUndefined();
    expect(manifest("../node_modules/exiftool-vendored.pl/package.json").version).toBe(
      project.dependencies["exiftool-vendored.pl"],
    );
  });
});
