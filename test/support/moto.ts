import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

/** An AWS emulator (moto_server: S3 with event notifications, SQS, DynamoDB) on a free local port. */
export interface Moto {
  endpoint: string;
  /** The AWS settings a client needs to talk to it (fake credentials, one region). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Why moto_server cannot be used here, or null when it can. */
export function motoMissing(): string | null {
  const found = spawnSync("moto_server", ["--help"], { stdio: "ignore", timeout: 20_000 });
  if (found.error || found.status !== 0) {
    return "moto_server is not on the PATH (pip install 'moto[server]'): AWS emulator tests skipped";
  }
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const MOTO_ENV = {
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_REGION: "us-east-1",
};

/** Starts moto_server and waits until it answers; credentials for it are put in process.env. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto_server did not answer within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  Object.assign(process.env, MOTO_ENV);
  return {
    endpoint,
    env: { ...MOTO_ENV },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
