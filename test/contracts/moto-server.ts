import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

/**
 * moto_server, with two repairs to its DynamoDB:
 * - it answers on many threads and checks a transaction's conditions without a lock, so two concurrent
 *   conditional writes could both succeed, which DynamoDB never allows: one thread makes requests atomic;
 * - it copies whole tables before each transaction item (to roll back), which makes every write cost the
 *   size of the table: conditions are checked first against the state before the transaction, as DynamoDB
 *   does, so a cancelled transaction writes nothing and no copy is needed.
 */
const MOTO = `
import sys
import moto.server as server
import werkzeug.serving as serving
import moto.dynamodb.models as models
from moto.dynamodb.exceptions import TransactionCanceledException

original = models.DynamoDBBackend.transact_write_items

class NoCopy:
    @staticmethod
    def deepcopy(value, *args):
        return value

def transact_write_items(self, transact_items):
    errors = []
    for item in transact_items:
        op_type, op = next(iter(item.items()))
        condition = op.get("ConditionExpression") if isinstance(op, dict) else None
        if condition is None or op_type not in ("Put", "Delete", "Update", "ConditionCheck"):
            errors.append((None, None, None))
            continue
        table = self.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        current = self.get_item(op["TableName"], key)
        check = models.get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        )
        if check.expr(current):
            errors.append((None, None, None))
        else:
            errors.append(("ConditionalCheckFailed", "The conditional request failed", None))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    saved = models.copy
    models.copy = NoCopy
    try:
        return original(self, transact_items)
    finally:
        models.copy = saved

models.DynamoDBBackend.transact_write_items = transact_write_items
# Headers and body go out in two writes: without this, Nagle's algorithm and delayed ACKs add 40 ms to each.
serving.WSGIRequestHandler.disable_nagle_algorithm = True
run = server.run_simple
server.run_simple = lambda *args, **kwargs: run(*args, **{**kwargs, "threaded": False})
server.main(sys.argv[1:])
`;

/** Why moto_server cannot run here, or null when it can. */
export function motoUnavailable(): string | null {
  const probe = spawnSync("python3", ["-c", "import moto.server, moto.dynamodb.models, flask"], {
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
  const child: ChildProcess = spawn("python3", ["-c", MOTO, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: "ignore",
  });
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
