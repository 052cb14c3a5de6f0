import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { App, type Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../deploy/aws/app.js";
import { bedrockModel, readSettings, SettingsError } from "../../deploy/aws/settings.js";
import { type PhotocatStack, REPO_ROOT } from "../../deploy/aws/stack.js";
import { parseDynamoDbUrl } from "../../src/adapters/dynamodb/index.js";
import { CATALOG_TABLE, createTableInput } from "../../src/adapters/dynamodb/table.js";
import { JOBS_TABLE } from "../../src/adapters/queue/sqs.js";
import { loadConfig } from "../../src/config.js";
import { INCOMING } from "../../src/services/incoming.js";

/**
 * The AWS stack, synthesised offline with bundling skipped (the template is the same; `npm run aws:synth`
 * bundles for real). Checks the template, cdk-nag's AwsSolutions rules (synth fails on any finding not
 * acknowledged) and cfn-lint.
 */

const CDK_JSON = JSON.parse(readFileSync(path.join(REPO_ROOT, "deploy/aws/cdk.json"), "utf8")) as {
  context: Record<string, unknown>;
};
const WEB_BUILT = existsSync(path.join(REPO_ROOT, "web/dist/index.html"));
if (!WEB_BUILT) console.warn("[skip] test/aws/stack.test.ts: web/dist is not built (run npm run build:web)");

const outdirs: string[] = [];
function synth(context: Record<string, unknown>) {
  const outdir = mkdtempSync(path.join(tmpdir(), "photocat-cdk-"));
  outdirs.push(outdir);
  const app = new App({
    outdir,
    context: { ...CDK_JSON.context, "aws:cdk:bundling-stacks": [], region: "eu-west-1", ...context },
  });
  const stack = buildApp(app);
  const assembly = app.synth(); // Throws when cdk-nag reports an unacknowledged finding.
  const artifact = assembly.getStackByName(stack.stackName);
  return {
    stack,
    template: Template.fromJSON(artifact.template as Record<string, unknown>),
    templateFile: artifact.templateFullPath,
    outdir,
  };
}
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const id = (stack: Stack, construct: IConstruct) =>
  stack.getLogicalId(construct.node.defaultChild as unknown as import("aws-cdk-lib").CfnElement);
const statementsOf = (template: Template, roleId: string) =>
  Object.values(template.findResources("AWS::IAM::Policy") as Resources)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());

describe.skipIf(!WEB_BUILT)("AWS stack (deploy/aws)", () => {
  let stack: PhotocatStack;
  let template: Template;
  let templateFile: string;
  let resources: Resources;
  /** The template properties of a construct's resource. */
  const props = (construct: IConstruct) => {
    const resource = resources[id(stack, construct)];
    if (!resource) throw new Error(`${construct.node.path} is not in the template`);
    return resource.Properties;
  };

  beforeAll(() => {
    ({ stack, template, templateFile } = synth({ passwordSecret: "photocat/password" }));
    resources = template.toJSON().Resources as Resources;
  }, 120_000);

  describe("storage", () => {
    it("sends only the drop zone's incoming/ objects to the ingest queue; no other bucket notifies anything", () => {
      const notifications = template.findResources("Custom::S3BucketNotifications") as Resources;
      expect(Object.keys(notifications)).toHaveLength(1);
      const [notification] = Object.values(notifications);
      expect(notification?.Properties.BucketName).toEqual({ Ref: id(stack, stack.parts.buckets.dropZone) });
      expect(notification?.Properties.NotificationConfiguration).toEqual({
        QueueConfigurations: [
          {
            Events: ["s3:ObjectCreated:*"],
            Filter: { Key: { FilterRules: [{ Name: "prefix", Value: INCOMING }] } },
            QueueArn: { "Fn::GetAtt": [id(stack, stack.parts.queues.ingest.queue), "Arn"] },
          },
        ],
      });
    });

    it("blocks public access, encrypts, and refuses plain HTTP on every bucket", () => {
      const buckets = template.findResources("AWS::S3::Bucket") as Resources;
      expect(Object.keys(buckets)).toHaveLength(4);
      for (const bucket of Object.values(buckets)) {
        expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
        expect(JSON.stringify(bucket.Properties.BucketEncryption)).toContain('"SSEAlgorithm":"AES256"');
      }
      const policies = Object.values(template.findResources("AWS::S3::BucketPolicy") as Resources);
      expect(policies).toHaveLength(4);
      for (const policy of policies) {
        const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
        expect(statements).toContainEqual(
          expect.objectContaining({
            Effect: "Deny",
            Principal: { AWS: "*" },
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        );
        // Nobody but named AWS services is allowed in: no Allow to "*".
        for (const s of statements.filter((s) => s.Effect === "Allow")) {
          expect(JSON.stringify(s)).not.toMatch(/"Principal":\{"AWS":"\*"\}|"Principal":"\*"/);
        }
      }
    });

    it("expires what is left in incoming/, refused files and upload results; keeps photos versioned", () => {
      const dropZone = { Properties: props(stack.parts.buckets.dropZone) };
      const rules = (dropZone.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] })
        .Rules;
      expect(rules).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Prefix: "incoming/", ExpirationInDays: 30, Status: "Enabled" }),
          expect.objectContaining({ Prefix: "rejected/", ExpirationInDays: 30, Status: "Enabled" }),
          expect.objectContaining({ Prefix: "results/", ExpirationInDays: 30, Status: "Enabled" }),
        ]),
      );
      const photos = { Properties: props(stack.parts.buckets.photos) };
      expect(photos.Properties.VersioningConfiguration).toEqual({ Status: "Enabled" });
      expect(photos.Properties.NotificationConfiguration).toBeUndefined();
    });

    it("lets only the gallery's own origin post uploads to the drop zone (no CORS *)", () => {
      const dropZone = { Properties: props(stack.parts.buckets.dropZone) };
      expect(dropZone.Properties.CorsConfiguration).toEqual({
        CorsRules: [
          {
            AllowedMethods: ["POST"],
            AllowedOrigins: [
              {
                "Fn::Join": [
                  "",
                  ["https://", { "Fn::GetAtt": [id(stack, stack.parts.distribution), "DomainName"] }],
                ],
              },
            ],
            MaxAge: 3600,
          },
        ],
      });
      const text = JSON.stringify(template.toJSON());
      expect(text).not.toMatch(
        /"AllowedOrigins":\["\*"\]|"AllowOrigins":\["\*"\]|"Access-Control-Allow-Origin"/,
      );
      template.resourcePropertiesCountIs(
        "AWS::ApiGatewayV2::Api",
        { CorsConfiguration: Match.anyValue() },
        0,
      );
    });
  });

  describe("catalogue and jobs tables", () => {
    it("mirror the adapters' own definitions: keys, indexes, projections, expiry", () => {
      const keySchema = (k: { partitionKey: { name: string }; sortKey?: { name: string } }) => [
        { AttributeName: k.partitionKey.name, KeyType: "HASH" },
        ...(k.sortKey ? [{ AttributeName: k.sortKey.name, KeyType: "RANGE" }] : []),
      ];
      const catalogue = props(stack.parts.tables.catalogue);
      expect(catalogue.KeySchema).toEqual(createTableInput("x").KeySchema);
      expect(catalogue.GlobalSecondaryIndexes).toEqual(
        createTableInput("x").GlobalSecondaryIndexes.map((g) => ({
          IndexName: g.IndexName,
          KeySchema: g.KeySchema,
          Projection: g.Projection,
        })),
      );
      expect(catalogue.TimeToLiveSpecification).toEqual({
        AttributeName: CATALOG_TABLE.timeToLiveAttribute,
        Enabled: true,
      });
      const jobs = props(stack.parts.tables.jobs);
      expect(jobs.KeySchema).toEqual(keySchema(JOBS_TABLE));
      expect(jobs.GlobalSecondaryIndexes).toEqual(
        JOBS_TABLE.globalSecondaryIndexes.map((g) => ({
          IndexName: g.indexName,
          KeySchema: keySchema(g),
          Projection: { ProjectionType: g.projection },
        })),
      );
    });

    it("are on-demand, with point-in-time recovery, encryption at rest and deletion protection", () => {
      const tables = Object.values(template.findResources("AWS::DynamoDB::Table") as Resources);
      expect(tables).toHaveLength(2);
      for (const table of tables) {
        expect(table.Properties).toMatchObject({
          BillingMode: "PAY_PER_REQUEST",
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          DeletionProtectionEnabled: true,
        });
      }
    });

    it("names every index as DynamoDB accepts (3 to 255 characters of [a-zA-Z0-9_.-])", () => {
      for (const table of Object.values(template.findResources("AWS::DynamoDB::Table") as Resources)) {
        for (const gsi of table.Properties.GlobalSecondaryIndexes as { IndexName: string }[]) {
          expect(gsi.IndexName).toMatch(/^[\w.-]{3,255}$/);
        }
      }
    });
  });

  describe("queues and functions", () => {
    const timeoutOf = (construct: IConstruct) => props(construct).Timeout as number;

    it("gives each queue a dead-letter queue and a visibility timeout of 6x its function's", () => {
      for (const name of ["ingest", "analysis"] as const) {
        const queue = { Properties: props(stack.parts.queues[name].queue) };
        expect(queue.Properties.RedrivePolicy).toEqual({
          deadLetterTargetArn: { "Fn::GetAtt": [id(stack, stack.parts.queues[name].deadLetters), "Arn"] },
          maxReceiveCount: 5,
        });
        const timeout = timeoutOf(stack.parts.functions[name].fn);
        expect(timeout).toBeGreaterThan(0);
        expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
        expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      }
    });

    it("gives the analysis function time for every try of a model call", () => {
      const fn = props(stack.parts.functions.analysis.fn);
      const env = (fn.Environment as { Variables: Record<string, string> }).Variables;
      const tries = Number(env.PHOTOCAT_MAX_RETRIES) + 1;
      expect(tries * Number(env.PHOTOCAT_TIMEOUT_MS)).toBeLessThan((fn.Timeout as number) * 1000);
    });

    it("reports partial batch failures and caps concurrency on both event sources", () => {
      const mappings = Object.values(template.findResources("AWS::Lambda::EventSourceMapping") as Resources);
      expect(mappings).toHaveLength(2);
      const byFunction = Object.fromEntries(
        mappings.map((m) => [(m.Properties.FunctionName as { Ref: string }).Ref, m.Properties]),
      );
      expect(byFunction[id(stack, stack.parts.functions.analysis.fn)]).toMatchObject({
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        ScalingConfig: { MaximumConcurrency: 2 },
        EventSourceArn: { "Fn::GetAtt": [id(stack, stack.parts.queues.analysis.queue), "Arn"] },
      });
      expect(byFunction[id(stack, stack.parts.functions.ingest.fn)]).toMatchObject({
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        ScalingConfig: { MaximumConcurrency: 5 },
      });
    });

    it("runs the project's Lambda entries on Node.js, x86_64, with their logs kept 30 days", () => {
      for (const name of ["ingest", "analysis", "api"] as const) {
        const fn = { Properties: props(stack.parts.functions[name].fn) };
        expect(fn.Properties).toMatchObject({
          Handler: "index.handler",
          Runtime: expect.stringMatching(/^nodejs\d+\.x$/),
          Architectures: ["x86_64"],
        });
        const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(resources[logGroup]?.Properties.RetentionInDays).toBe(30);
      }
    });

    it("sets environments the app's own settings parser accepts, naming the stack's tables, queue and buckets", () => {
      // CloudFormation's functions, with made-up values for what only exists once deployed.
      const resolve = (value: unknown): string => {
        if (typeof value === "string") return value;
        const v = value as Record<string, unknown>;
        if (v.Ref === "AWS::AccountId") return "123456789012";
        if (v.Ref === "AWS::Region") return "eu-west-1";
        if (v.Ref === "AWS::URLSuffix") return "amazonaws.com";
        if (typeof v.Ref === "string") return `${v.Ref.toLowerCase()}-name`;
        if (v["Fn::GetAtt"]) return `${(v["Fn::GetAtt"] as string[]).join(".").toLowerCase()}`;
        if (v["Fn::Join"]) {
          const [separator, parts] = v["Fn::Join"] as [string, unknown[]];
          return parts.map(resolve).join(separator);
        }
        throw new Error(`cannot resolve ${JSON.stringify(value)}`);
      };
      for (const name of ["ingest", "analysis", "api"] as const) {
        const variables = (
          props(stack.parts.functions[name].fn).Environment as { Variables: Record<string, unknown> }
        ).Variables;
        const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolve(v)]));
        // The password comes from the secret at start; a stand-in lets the parser check the rest.
        const config = loadConfig({ ...env, PHOTOCAT_PASSWORD: "a stand-in password" });
        expect(parseDynamoDbUrl(config.databaseUrl).table).toBe(
          `${id(stack, stack.parts.tables.catalogue).toLowerCase()}-name`,
        );
        expect(config.queue.sqs).toEqual({
          queueUrl: `https://sqs.eu-west-1.amazonaws.com/123456789012/${id(stack, stack.parts.queues.analysis.queue).toLowerCase()}.queuename`,
          jobsTable: `${id(stack, stack.parts.tables.jobs).toLowerCase()}-name`,
          region: null,
          endpoint: null,
        });
        expect(config.queue.maxReceives).toBe(5);
        expect(config.storageUrl).toBe(`s3://${id(stack, stack.parts.buckets.photos).toLowerCase()}-name`);
        expect(config.dropZone).toMatchObject({
          bucket: `${id(stack, stack.parts.buckets.dropZone).toLowerCase()}-name`,
        });
        expect(config.analyser).toBe("bedrock");
        expect(config.model).toBe("eu.anthropic.claude-haiku-4-5-20251001-v1:0");
        expect(config.maxUploadBytes).toBe(50 * 1024 * 1024);
      }
    });

    it("keeps the password out of the functions' configuration: only where it lives", () => {
      const api = { Properties: props(stack.parts.functions.api.fn) };
      const env = (api.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.PHOTOCAT_PASSWORD).toBeUndefined();
      expect(JSON.parse(env.PHOTOCAT_SECRETS as string)).toEqual({
        PHOTOCAT_PASSWORD: "secretsmanager:photocat/password",
      });
      expect(env.PHOTOCAT_CORS_ORIGINS).toEqual({
        "Fn::Join": ["", ["https://", { "Fn::GetAtt": [id(stack, stack.parts.distribution), "DomainName"] }]],
      });
    });

    it("has the API hand out originals at signed URLs (a Lambda response holds at most 6 MB)", () => {
      const env = (props(stack.parts.functions.api.fn).Environment as { Variables: Record<string, unknown> })
        .Variables;
      expect(env.PHOTOCAT_SIGNED_DOWNLOADS).toBe("on");
      const others = ["ingest", "analysis"] as const;
      for (const name of others) {
        const variables = (
          props(stack.parts.functions[name].fn).Environment as { Variables: Record<string, unknown> }
        ).Variables;
        expect(variables.PHOTOCAT_SIGNED_DOWNLOADS).toBeUndefined();
      }
      // The signature is the API role's: it must read the photos bucket's objects (originals/ included).
      const photos = id(stack, stack.parts.buckets.photos);
      const readsPhotos = statementsOf(template, id(stack, stack.parts.functions.api.role)).some(
        (s) =>
          [s.Action].flat().includes("s3:GetObject") &&
          JSON.stringify(s.Resource) ===
            JSON.stringify({ "Fn::Join": ["", [{ "Fn::GetAtt": [photos, "Arn"] }, "/*"]] }),
      );
      expect(readsPhotos).toBe(true);
    });
  });

  describe("least privilege", () => {
    const roleId = (name: "ingest" | "analysis" | "api") => id(stack, stack.parts.functions[name].role);

    it("gives each function its own role, with no wildcard action and no resource '*'", () => {
      for (const name of ["ingest", "analysis", "api"] as const) {
        const statements = statementsOf(template, roleId(name));
        expect(statements.length).toBeGreaterThan(0);
        for (const s of statements) {
          for (const action of [s.Action].flat()) expect(action).not.toMatch(/\*/);
          expect(s.Resource).not.toBe("*");
          expect([s.Resource].flat()).not.toContain("*");
        }
        expect(resources[roleId(name)]?.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it("allows Bedrock only to the analysis function, on the configured inference profile and its model", () => {
      expect(actionsOf(statementsOf(template, roleId("ingest")))).not.toContain("bedrock:InvokeModel");
      expect(actionsOf(statementsOf(template, roleId("api")))).not.toContain("bedrock:InvokeModel");
      const bedrock = statementsOf(template, roleId("analysis")).filter((s) =>
        String(s.Action).startsWith("bedrock"),
      );
      const profileArn = {
        "Fn::Join": [
          "",
          [
            "arn:",
            { Ref: "AWS::Partition" },
            ":bedrock:",
            { Ref: "AWS::Region" },
            ":",
            { Ref: "AWS::AccountId" },
            ":inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0",
          ],
        ],
      };
      expect(bedrock).toEqual([
        { Effect: "Allow", Action: "bedrock:InvokeModel", Resource: profileArn },
        {
          Effect: "Allow",
          Action: "bedrock:InvokeModel",
          Resource: {
            "Fn::Join": [
              "",
              [
                "arn:",
                { Ref: "AWS::Partition" },
                ":bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
              ],
            ],
          },
          Condition: { StringEquals: { "bedrock:InferenceProfileArn": profileArn } },
        },
      ]);
    });

    it("lets only the API read the password secret; only ingest deletes from incoming/", () => {
      const secretActions = (name: "ingest" | "analysis" | "api") =>
        statementsOf(template, roleId(name)).filter((s) => String(s.Action).startsWith("secretsmanager"));
      expect(secretActions("api")).toHaveLength(1);
      expect(JSON.stringify(secretActions("api")[0]?.Resource)).toContain(":secret:photocat/password-??????");
      expect(secretActions("ingest")).toEqual([]);
      expect(secretActions("analysis")).toEqual([]);
      const deletesIncoming = (name: "ingest" | "analysis" | "api") =>
        statementsOf(template, roleId(name)).some(
          (s) =>
            [s.Action].flat().includes("s3:DeleteObject") &&
            JSON.stringify(s.Resource).includes("/incoming/*"),
        );
      expect(deletesIncoming("ingest")).toBe(true);
      expect(deletesIncoming("api")).toBe(false);
      expect(deletesIncoming("analysis")).toBe(false);
    });
  });

  describe("web", () => {
    it("serves the gallery from a private bucket through Origin Access Control, HTTPS only", () => {
      template.resourceCountIs("AWS::CloudFront::OriginAccessControl", 1);
      const dist = props(stack.parts.distribution).DistributionConfig as {
        Origins: {
          Id: string;
          DomainName: unknown;
          OriginAccessControlId?: unknown;
          S3OriginConfig?: unknown;
        }[];
        DefaultCacheBehavior: Record<string, unknown>;
        CacheBehaviors: Record<string, unknown>[];
      };
      const s3Origins = dist.Origins.filter((o) => o.S3OriginConfig);
      expect(s3Origins).toHaveLength(1);
      expect(s3Origins[0]?.DomainName).toEqual({
        "Fn::GetAtt": [id(stack, stack.parts.buckets.web), "RegionalDomainName"],
      });
      expect(s3Origins[0]?.OriginAccessControlId).toBeDefined();
      expect(s3Origins[0]?.S3OriginConfig).toEqual({ OriginAccessIdentity: "" });
      // Photos and the drop zone are never origins: originals and thumbnails only by signed URL.
      const origins = JSON.stringify(dist.Origins);
      expect(origins).not.toContain(id(stack, stack.parts.buckets.photos));
      expect(origins).not.toContain(id(stack, stack.parts.buckets.dropZone));
      expect(dist.DefaultCacheBehavior.ViewerProtocolPolicy).toBe("redirect-to-https");
      for (const b of dist.CacheBehaviors) expect(b.ViewerProtocolPolicy).toBe("https-only");
      const webPolicy = Object.values(template.findResources("AWS::S3::BucketPolicy") as Resources).find(
        (p) =>
          JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: id(stack, stack.parts.buckets.web) }),
      );
      const allow = (webPolicy!.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
        (s) => s.Effect === "Allow",
      );
      expect(allow).toEqual([
        expect.objectContaining({
          Action: "s3:GetObject",
          Principal: { Service: "cloudfront.amazonaws.com" },
          Condition: {
            StringEquals: {
              "AWS:SourceArn": expect.objectContaining({ "Fn::Join": expect.anything() }),
            },
          },
        }),
      ]);
    });

    it("routes /api/* to the HTTP API uncached, with cookies and Authorization passed on", () => {
      const dist = props(stack.parts.distribution).DistributionConfig as {
        Origins: { Id: string; DomainName: unknown; CustomOriginConfig?: Record<string, unknown> }[];
        CacheBehaviors: Record<string, unknown>[];
      };
      const api = dist.CacheBehaviors.find((b) => b.PathPattern === "/api/*");
      expect(api).toMatchObject({
        AllowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
        CachePolicyId: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", // Managed-CachingDisabled
        OriginRequestPolicyId: "b689b0a8-53d0-40ab-baf2-68738e2966ac", // Managed-AllViewerExceptHostHeader
      });
      const origin = dist.Origins.find((o) => o.Id === api?.TargetOriginId);
      expect(JSON.stringify(origin?.DomainName)).toContain(id(stack, stack.parts.httpApi));
      expect(origin?.CustomOriginConfig).toMatchObject({
        OriginProtocolPolicy: "https-only",
        OriginSSLProtocols: ["TLSv1.2"],
      });
      template.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
        IntegrationType: "AWS_PROXY",
        PayloadFormatVersion: "2.0",
        IntegrationUri: { "Fn::GetAtt": [id(stack, stack.parts.functions.api.fn), "Arn"] },
      });
    });

    it("adds security headers: HSTS, the app's CSP opened only to its own buckets, no framing, no sniffing", () => {
      const policy = Object.values(
        template.findResources("AWS::CloudFront::ResponseHeadersPolicy") as Resources,
      )[0];
      const headers = (
        policy!.Properties.ResponseHeadersPolicyConfig as {
          SecurityHeadersConfig: Record<string, Record<string, unknown>>;
        }
      ).SecurityHeadersConfig;
      expect(headers.StrictTransportSecurity).toMatchObject({
        AccessControlMaxAgeSec: 31536000,
        Override: true,
      });
      expect(headers.FrameOptions).toEqual({ FrameOption: "DENY", Override: true });
      expect(headers.ContentTypeOptions).toEqual({ Override: true });
      expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: "no-referrer", Override: true });
      const csp = JSON.stringify(headers.ContentSecurityPolicy?.ContentSecurityPolicy);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toMatch(/img-src 'self' data: blob: https:\/\/photocat-photos-/);
      expect(csp).toMatch(/connect-src 'self' https:\/\/photocat-dropzone-/);
      expect(csp).not.toMatch(/\*/);
    });

    it("deploys the built gallery into the web bucket and invalidates CloudFront", () => {
      const deployments = Object.values(template.findResources("Custom::CDKBucketDeployment") as Resources);
      expect(deployments).toHaveLength(2);
      for (const d of deployments) {
        expect(d.Properties.DestinationBucketName).toEqual({ Ref: id(stack, stack.parts.buckets.web) });
      }
      expect(deployments.some((d) => d.Properties.DistributionId)).toBe(true);
    });
  });

  describe("operations", () => {
    it("alarms on both dead-letter queues and on function errors, into one SNS topic", () => {
      const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm") as Resources);
      const topic = { Ref: id(stack, stack.parts.alarms) };
      for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([topic]);
      const onQueue = (queue: IConstruct) =>
        alarms.filter(
          (a) =>
            a.Properties.MetricName === "ApproximateNumberOfMessagesVisible" &&
            JSON.stringify(a.Properties.Dimensions).includes(id(stack, queue)),
        );
      for (const name of ["ingest", "analysis"] as const) {
        expect(onQueue(stack.parts.queues[name].deadLetters)).toEqual([
          expect.objectContaining({
            Properties: expect.objectContaining({
              Threshold: 1,
              ComparisonOperator: "GreaterThanOrEqualToThreshold",
            }),
          }),
        ]);
      }
      for (const name of ["ingest", "analysis", "api"] as const) {
        expect(
          alarms.filter(
            (a) =>
              a.Properties.MetricName === "Errors" &&
              JSON.stringify(a.Properties.Dimensions).includes(id(stack, stack.parts.functions[name].fn)),
          ),
        ).toHaveLength(1);
      }
    });

    it("passes cdk-nag's AwsSolutions rules; each acknowledged finding gives its reason", () => {
      // app.synth() above threw on any unacknowledged finding; here, every acknowledgement says why.
      const acknowledged: { path: string; id: string; reason: string }[] = [];
      for (const c of stack.node.findAll()) {
        for (const entry of c.node.metadata) {
          if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
          for (const [rule, reason] of Object.entries(entry.data as Record<string, string>)) {
            acknowledged.push({ path: c.node.path, id: rule.replace(/^Annotation::/, ""), reason });
          }
        }
      }
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const a of acknowledged) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(40);
      const rules = [...new Set(acknowledged.map((a) => a.id.replace(/\[.*$/, "")))].sort();
      console.log(
        `cdk-nag AwsSolutions: 0 unacknowledged; ${acknowledged.length} acknowledgements of ${rules.join(", ")}`,
      );
    });

    it("passes cfn-lint with no error (warnings printed)", (ctx) => {
      const probe = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" });
      if (probe.error || probe.status !== 0) {
        console.warn("[skip] cfn-lint is not on the PATH (pip install cfn-lint)");
        ctx.skip();
        return;
      }
      const run = spawnSync("cfn-lint", ["--format", "parseable", templateFile], { encoding: "utf8" });
      const lines = run.stdout.trim().split("\n").filter(Boolean);
      console.log(`cfn-lint ${probe.stdout.trim()}: exit ${run.status}\n${lines.join("\n")}`);
      // Exit status bits: 1 cfn-lint failed, 2 error, 4 warning, 8 informational.
      expect(run.status! & 3, run.stderr).toBe(0);
      expect(lines.filter((l) => /:E\d{4}:/.test(l))).toEqual([]);
    });
  });
});

describe("deploy settings (CDK context)", () => {
  const settings = (context: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
    readSettings((name) => context[name], env);

  it("refuses to synthesise without a password or API-token secret", () => {
    expect(() => settings({ region: "eu-west-1" })).toThrow(SettingsError);
    expect(() => settings({ region: "eu-west-1" })).toThrow(
      /not deployed without a password.*passwordSecret/,
    );
    expect(() => buildApp(new App({ context: { region: "eu-west-1" } }))).toThrow(/without a password/);
    expect(settings({ apiTokensSecret: "ssm:/photocat/tokens" }).apiTokensSecret).toEqual({
      kind: "ssm",
      name: "/photocat/tokens",
    });
  });

  it("defaults to the region's Claude Haiku 4.5 inference profile; Claude 3 Haiku is selectable", () => {
    const base = { passwordSecret: "p" };
    expect(settings({ ...base, region: "eu-central-1" }).model).toBe(
      "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
    );
    expect(settings({ ...base, region: "us-west-2" }).model).toBe(
      "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    );
    expect(settings(base, { CDK_DEFAULT_REGION: "ap-northeast-1" }).model).toBe(
      "apac.anthropic.claude-haiku-4-5-20251001-v1:0",
    );
    expect(bedrockModel("anthropic.claude-3-haiku-20240307-v1:0", "us-east-1")).toEqual({
      foundationModel: "anthropic.claude-3-haiku-20240307-v1:0",
      inferenceProfile: null,
    });
    expect(bedrockModel("global.anthropic.claude-haiku-4-5-20251001-v1:0", "us-east-1")).toEqual({
      foundationModel: "anthropic.claude-haiku-4-5-20251001-v1:0",
      inferenceProfile: "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    });
    expect(() => settings({ ...base, model: "arn:aws:bedrock:us-east-1:123456789012:foo/bar" })).toThrow(
      /model id, an inference-profile id/,
    );
  });

  it("checks every number and name, saying which setting is wrong and what it accepts", () => {
    const base = { passwordSecret: "p", region: "eu-west-1" };
    expect(() => settings({ ...base, analysisConcurrency: 1 })).toThrow(
      /analysisConcurrency must be a whole number from 2/,
    );
    expect(() => settings({ ...base, logRetentionDays: 10 })).toThrow(
      /logRetentionDays must be one of 1, 3, 5, 7, 14/,
    );
    expect(() => settings({ ...base, region: "Europe" })).toThrow(/not an AWS region/);
    expect(() => settings({ ...base, analyser: "openai" })).toThrow(/needs -c providerKeySecret/);
    expect(() => settings({ ...base, alarmEmail: "nobody" })).toThrow(/not an email address/);
    expect(() => settings({ ...base, passwordSecret: "has spaces" })).toThrow(
      /not a Secrets Manager secret name/,
    );
  });
});

describe.skipIf(!WEB_BUILT)("AWS stack with Claude 3 Haiku and an SSM parameter", () => {
  it("grants InvokeModel on that model in the deploy region only, and GetParameter on the parameter", () => {
    const { stack, template } = synth({
      region: "us-east-1",
      model: "anthropic.claude-3-haiku-20240307-v1:0",
      passwordSecret: "ssm:/photocat/password",
      analysisConcurrency: 3,
    });
    const analysis = statementsOf(template, id(stack, stack.parts.functions.analysis.role));
    expect(analysis.filter((s) => String(s.Action).startsWith("bedrock"))).toEqual([
      {
        Effect: "Allow",
        Action: "bedrock:InvokeModel",
        Resource: {
          "Fn::Join": [
            "",
            [
              "arn:",
              { Ref: "AWS::Partition" },
              ":bedrock:",
              { Ref: "AWS::Region" },
              "::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            ],
          ],
        },
      },
    ]);
    const api = statementsOf(template, id(stack, stack.parts.functions.api.role));
    expect(api.filter((s) => String(s.Action).startsWith("ssm"))).toEqual([
      expect.objectContaining({ Action: "ssm:GetParameter", Resource: expect.anything() }),
    ]);
    expect(JSON.stringify(api)).toContain(":parameter/photocat/password");
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      ScalingConfig: { MaximumConcurrency: 3 },
    });
  }, 120_000);
});
