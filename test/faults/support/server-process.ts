import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PROJECT_ROOT = path.resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const CLI = path.join(PROJECT_ROOT, "src", "cli", "main.ts");
const FAULT_SERVE = path.join(PROJECT_ROOT, "test", "faults", "support", "serve.ts");

export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote to stderr (and stdout), for failure messages. */
  output(): string;
  /** SIGTERM, waiting for a clean stop. */
  stop(): Promise<number | null>;
  /** SIGKILL: no chance to clean up, like a power cut. */
  kill(): Promise<void>;
}

/**
 * Runs `photocat serve` in its own Node process (tsx loaded in-process, so the pid is the server's own),
 * on 127.0.0.1 and a free port. Resolves once it says where it listens. `shortLeases` runs the same
 * server through serve.ts, whose worker reclaims a killed process's jobs within seconds.
 */
export function startServerProcess(options: {
  dataDir: string;
  env?: Record<string, string>;
  args?: string[];
  timeoutMs?: number;
  shortLeases?: boolean;
}): Promise<ServerProcess> {
  const entry = options.shortLeases ? [FAULT_SERVE] : [CLI, "serve"];
  const child = spawn(process.execPath, ["--import", "tsx", ...entry, ...(options.args ?? [])], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      PHOTOCAT_HOST: "127.0.0.1",
      PHOTOCAT_PORT: "0",
      PHOTOCAT_LOG_LEVEL: "warn",
      ...options.env,
      PHOTOCAT_DATA_DIR: options.dataDir,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the server did not start within ${options.timeoutMs ?? 60_000} ms:\n${output}`));
    }, options.timeoutMs ?? 60_000);
    const onData = () => {
      const match = /running at (http:\/\/[^\s)]+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stderr!.off("data", onData);
      resolve({
        url: match[1]!,
        pid: child.pid!,
        child,
        output: () => output,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          return exited;
        },
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          await exited;
        },
      });
    };
    child.stderr!.on("data", onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code} before it started:\n${output}`));
    });
  });
}

/** Peak resident memory (VmHWM) of a live process, in MB; null when /proc is not readable. */
export function peakRssMb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** Uploads one file as multipart form data; never throws for HTTP errors. */
export async function uploadFile(
  url: string,
  file: { name: string; bytes: Buffer; type?: string },
  signal?: AbortSignal,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(file.bytes)], { type: file.type ?? "image/jpeg" }), file.name);
  const response = await fetch(`${url}/api/images`, { method: "POST", body: form, signal });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text.slice(0, 500) };
  }
  return { status: response.status, body };
}
