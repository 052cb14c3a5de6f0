import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

/**
 * moto_server answers requests on many threads, and its DynamoDB checks a transaction's conditions without a
 * lock: two concurrent conditional writes can both succeed, which DynamoDB never allows. One thread makes
 * every request atomic, as on DynamoDB.
 */
const SINGLE_THREADED = `
import sys
import moto.server as server
run = server.run_simple
server.run_simple = lambda *args, **kwargs: run(*args, **{**kwargs, "threaded": False})
server.main(sys.argv[1:])
`;

/** Why moto_server cannot run here, or null when it can. */
export function motoUnavailable(): string | null {
  const probe = spawnSync("python3", ["-c", "import moto.server, flask"], {
    stdio: "ignore",
    timeout: 30_000,
  });
  return probe.error || probe.status !== 0
    ? `python3 cannot import moto's server (${probe.error?.message ?? `exit ${probe.status}`}); pip install "moto[server]" to run these tests`
    : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Starts moto_server (AWS emulator) on a free local port; `stop` ends that one process. */
export async function startMotoServer(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "python3",
    ["-c", SINGLE_THREADED, "-H", "127.0.0.1", "-p", String(port)],
    {
      stdio: "ignore",
    },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    const up = await fetch(`${endpoint}/moto-api/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error("moto_server did not start within 30 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}
