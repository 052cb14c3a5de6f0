/**
 * The catalogue's one DynamoDB table: its keys and indexes, shared by the adapter (which creates it for
 * tests and local runs) and the CDK stack (deploy/aws), which must declare exactly this.
 *
 * Every key attribute is a string. Items, by partition key:
 * - `IMG#<id>`: the photo (sort key `#`) and its side items: `ID` (id order), `NOFP` (no fingerprint yet),
 *   `EMB#<model>` (an embedding), `HASH#<key>` (a perceptual-hash band).
 * - `SHA#<sha256>`: which photo holds these bytes (makes insert idempotent).
 * - `W#<word>`: one item per photo holding the word, sorted newest added first; `V#<letter>`: the words known.
 * - `STATS`: counters (total, per status, category, model, month, place), kept in step by every write.
 * - `SESSION#<hash>`, `PROBE#<process>`.
 *
 * Indexes (named GSI1..GSI6, keyed G1PK/G1SK...; all projecting every attribute: a page is read from the index alone):
 * - G1: `ADDED` (newest added first) or `TRASH` (most recently trashed first) for photos; `SESSIONS` by expiry.
 * - G2: `TAKEN` (newest captured first). G3: `CAT#<category>`. G4: `ST#<status>`. G5: `PL#<place>`.
 * - G6: side items: `ID`, `NOFP`, `CORR#<model>`, `HASH#<key>`.
 */
export const GSI_NAMES = ["G1", "G2", "G3", "G4", "G5", "G6"] as const;
export type GsiName = (typeof GSI_NAMES)[number];

/** DynamoDB wants index names of 3 characters or more: index G1 is named GSI1, and so on. */
export const indexNameOf = (gsi: GsiName) => `GSI${gsi.slice(1)}`;

const keyAttributes = ["PK", "SK", ...GSI_NAMES.flatMap((g) => [`${g}PK`, `${g}SK`])];

export const CATALOG_TABLE = {
  billingMode: "PAY_PER_REQUEST",
  /** Point-in-time recovery: the stack turns it on (the local emulators ignore it). */
  pointInTimeRecovery: true,
  /** Sessions carry their expiry (epoch seconds) here, so DynamoDB forgets them on its own as well. */
  timeToLiveAttribute: "ttl",
  partitionKey: { name: "PK", type: "S" },
  sortKey: { name: "SK", type: "S" },
  globalSecondaryIndexes: GSI_NAMES.map((name) => ({
    indexName: indexNameOf(name),
    partitionKey: { name: `${name}PK`, type: "S" },
    sortKey: { name: `${name}SK`, type: "S" },
    projectionType: "ALL" as const,
  })),
} as const;

/** The same definition as the CreateTable input the SDK takes (tests, `createTable: true`). */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: CATALOG_TABLE.billingMode,
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: "S" as const })),
    KeySchema: [
      { AttributeName: CATALOG_TABLE.partitionKey.name, KeyType: "HASH" as const },
      { AttributeName: CATALOG_TABLE.sortKey.name, KeyType: "RANGE" as const },
    ],
    GlobalSecondaryIndexes: CATALOG_TABLE.globalSecondaryIndexes.map((gsi) => ({
      IndexName: gsi.indexName,
      KeySchema: [
        { AttributeName: gsi.partitionKey.name, KeyType: "HASH" as const },
        { AttributeName: gsi.sortKey.name, KeyType: "RANGE" as const },
      ],
      Projection: { ProjectionType: gsi.projectionType },
    })),
  };
}
