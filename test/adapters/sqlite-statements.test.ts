import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KEPT_STATEMENTS, keptStatements } from "../../src/adapters/sqlite/statements.js";

describe("kept statements (SQLite, as Kysely's driver uses them)", () => {
  let database: BetterSqlite3.Database;
  afterEach(() => {
    if (database?.open) database.close();
  });

  function open() {
    database = new BetterSqlite3(":memory:");
    database.exec(`create table t (id integer primary key, name text, score real, data blob, note text);
      insert into t values (1, 'a', 0.5, x'00ff', null), (2, 'b', null, null, 'n');`);
    return keptStatements(database);
  }

  it("gives the same rows as better-sqlite3, later columns of one name winning", () => {
    const kept = open();
    for (const sql of [
      "select * from t order by id",
      "select id, name as id from t order by id",
      "select count(*) as n from t where id > ?",
      'select name as "__proto__", id from t order by id',
    ]) {
      const params = sql.includes("?") ? [0] : [];
      expect(kept.prepare(sql).all(params)).toEqual(database.prepare(sql).all(params));
    }
  });

  it("prepares each SQL text once, and forgets the least recently used past its limit", () => {
    const kept = open();
    const prepare = vi.spyOn(database, "prepare");
    for (let i = 0; i < 3; i++) kept.prepare("select name from t where id = ?").all([1]);
    expect(prepare).toHaveBeenCalledTimes(1);
    for (let i = 0; i < KEPT_STATEMENTS; i++) kept.prepare(`select ${i} as n`).all([]);
    prepare.mockClear();
    kept.prepare("select name from t where id = ?").all([1]);
    expect(prepare).toHaveBeenCalledTimes(1);
  });

  it("reads the new columns after a schema change by this connection", () => {
    const kept = open();
    expect(kept.prepare("select * from t where id = 1").all([])).toEqual([
      { id: 1, name: "a", score: 0.5, data: Buffer.from([0, 255]), note: null },
    ]);
    kept.prepare("alter table t add column extra text default 'x'").run([]);
    expect(kept.prepare("select * from t where id = 1").all([])).toEqual([
      { id: 1, name: "a", score: 0.5, data: Buffer.from([0, 255]), note: null, extra: "x" },
    ]);
  });

  it("reads the new columns after a schema change by another connection", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "photocat-statements-"));
    try {
      database = new BetterSqlite3(path.join(dir, "a.db"));
      database.exec("create table t (id integer primary key, name text); insert into t values (1, 'a');");
      const kept = keptStatements(database);
      expect(kept.prepare("select * from t").all([])).toEqual([{ id: 1, name: "a" }]);
      const other = new BetterSqlite3(path.join(dir, "a.db"));
      other.exec("alter table t rename column name to title");
      other.close();
      expect(kept.prepare("select * from t").all([])).toEqual([{ id: 1, title: "a" }]);
    } finally {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs writes and reports their changes", () => {
    const kept = open();
    const statement = kept.prepare("update t set name = ? where id > ?");
    expect(statement.reader).toBe(false);
    expect(statement.run(["z", 0]).changes).toBe(2);
    expect(kept.prepare("insert into t (name) values (?) returning id, name").all(["c"])).toEqual([
      { id: 3, name: "c" },
    ]);
  });

  it("streams rows while the same SQL runs again (each stream has its own statement)", () => {
    const kept = open();
    const sql = "select id, name from t order by id";
    const seen: unknown[] = [];
    for (const row of kept.prepare(sql).iterate([])) {
      seen.push(row);
      expect(kept.prepare(sql).all([])).toHaveLength(2);
    }
    expect(seen).toEqual([
      { id: 1, name: "a" },
      { id: 2, name: "b" },
    ]);
  });
});
