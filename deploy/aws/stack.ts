import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  Aws,
  CfnOutput,
  Duration,
  Lazy,
  RemovalPolicy,
  Stack,
  type StackProps,
  Token,
  Validations,
} from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3deploy from "aws-cdk-lib/aws-s3-deployment";
import { SqsDestination } from "aws-cdk-lib/aws-s3-notifications";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { CATALOG_TABLE } from "../../src/adapters/dynamodb/table.js";
import { JOBS_TABLE } from "../../src/adapters/queue/sqs.js";
import { contentSecurityPolicyHeader } from "../../src/http/security-headers.js";
// The drop zone's folders (only incoming/ sends events), as the incoming service names them.
import {
  INCOMING as INCOMING_PREFIX,
  REJECTED as REJECTED_PREFIX,
  RESULTS as RESULTS_PREFIX,
} from "../../src/services/incoming.js";
import { photocatFunction, RUNTIME } from "./bundling.js";
import { bedrockModel, type DeploySettings, type SecretRef } from "./settings.js";

export const REPO_ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const WEB_DIST = path.join(REPO_ROOT, "web", "dist");

/** Function timeouts; each queue's visibility timeout is six times its consumer's, as Lambda advises. */
export const TIMEOUTS = {
  ingest: Duration.minutes(2),
  analysis: Duration.minutes(5),
  api: Duration.seconds(29),
};
const VISIBILITY_FACTOR = 6;
/** One model call's time limit and retries inside the analysis function. */
const ANALYSIS_CALL_TIMEOUT_MS = 60_000;
const ANALYSIS_CALL_RETRIES = 2;
/** Messages a function takes at once; each fails alone (reportBatchItemFailures). */
export const BATCH_SIZES = { ingest: 5, analysis: 4 };

export interface PhotocatStackProps extends StackProps {
  settings: DeploySettings;
  /** The version the API reports (package.json). */
  version?: string;
}

/**
 * Photocat on AWS: S3 drop zone -> SQS -> ingest function -> SQS -> analysis function (Bedrock), the
 * catalogue in DynamoDB, the same Hono app behind an HTTP API, the gallery on CloudFront. The functions
 * run the project's own entries (src/entry/lambda); nothing here holds business logic.
 */
export class PhotocatStack extends Stack {
  /** The main constructs, named for tests and for stacks that extend this one. */
  readonly parts: PhotocatParts;

  constructor(scope: Construct, id: string, props: PhotocatStackProps) {
    super(scope, id, props);
    const { settings } = props;
    /** Acknowledges a cdk-nag rule (or only these findings of it) on a construct, with the reason. */
    const suppress = (construct: Construct, id: string, reason: string, findings?: string[]) =>
      Validations.of(construct).acknowledge(
        ...(findings ? findings.map((finding) => ({ id: `${id}[${finding}]`, reason })) : [{ id, reason }]),
      );

    // ---- Storage -------------------------------------------------------------------------------------
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront's standard logs are written with an ACL.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: "expire-logs", expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    suppress(
      accessLogs,
      "AwsSolutions-S1",
      "This is the access-log bucket itself; logging it into itself would loop.",
    );

    const privateBucket = (name: string, extra: Partial<s3.BucketProps> = {}) =>
      new s3.Bucket(this, name, {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${name.toLowerCase()}/`,
        removalPolicy: RemovalPolicy.RETAIN,
        ...extra,
      });

    // Names are fixed (not generated) so that the gallery's CSP and the drop zone's CORS rule can name
    // each other without a dependency cycle through CloudFront.
    // S3 names are at most 63 characters: <stack>-dropzone-<12-digit account>-<region>.
    if (this.stackName.length > 24) {
      throw new Error(
        `stack name "${this.stackName}" is too long for its bucket names: 24 characters at most`,
      );
    }
    const bucketName = (role: string) =>
      `${this.stackName.toLowerCase()}-${role}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    const regionalDomain = (name: string) => `${name}.s3.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    const dropZoneName = bucketName("dropzone");
    const photosName = bucketName("photos");

    /** Originals and thumbnails: no event notification at all, so storing a photo triggers nothing. */
    const photos = privateBucket("Photos", { bucketName: photosName, versioned: true });
    // Versions keep a deleted or overwritten photo for 30 days.
    photos.addLifecycleRule({
      id: "expire-old-versions",
      noncurrentVersionExpiration: Duration.days(30),
      expiredObjectDeleteMarker: true,
    });

    // The distribution is made last; its domain is read when the template is written.
    let gallery: cloudfront.Distribution | undefined;
    const galleryOrigin = `https://${Lazy.string({ produce: () => gallery?.distributionDomainName })}`;
    /** Where files arrive: browsers post to incoming/ with a presigned form, or anyone drops files there. */
    const dropZone = privateBucket("DropZone", {
      bucketName: dropZoneName,
      cors: [
        {
          allowedMethods: [s3.HttpMethods.POST],
          allowedOrigins: [galleryOrigin],
          maxAge: 3600,
        },
      ],
      lifecycleRules: [
        {
          id: "expire-stuck-incoming",
          prefix: INCOMING_PREFIX,
          expiration: Duration.days(settings.incomingRetentionDays),
        },
        {
          id: "expire-rejected",
          prefix: REJECTED_PREFIX,
          expiration: Duration.days(settings.rejectedRetentionDays),
        },
        {
          id: "expire-results",
          prefix: RESULTS_PREFIX,
          expiration: Duration.days(settings.rejectedRetentionDays),
        },
        { id: "abort-incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    // Both tables mirror the definitions their adapters create in tests, so the two cannot drift.
    const catalogue = tableFrom(this, "Catalogue", CATALOG_TABLE);
    const jobs = tableFrom(this, "Jobs", JOBS_TABLE);

    // ---- Queues --------------------------------------------------------------------------------------
    const queueWithDlq = (name: string, consumerTimeout: Duration) => {
      const deadLetters = new sqs.Queue(this, `${name}DeadLetters`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      const queue = new sqs.Queue(this, `${name}Queue`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(consumerTimeout.toSeconds() * VISIBILITY_FACTOR),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: settings.maxReceiveCount },
      });
      return { queue, deadLetters };
    };
    const ingest = queueWithDlq("Ingest", TIMEOUTS.ingest);
    const analysis = queueWithDlq("Analysis", TIMEOUTS.analysis);

    // S3 -> SQS for incoming/ only; SSE-SQS queues accept S3's notifications without a KMS key policy.
    dropZone.addEventNotification(s3.EventType.OBJECT_CREATED, new SqsDestination(ingest.queue), {
      prefix: INCOMING_PREFIX,
    });

    // ---- Functions -----------------------------------------------------------------------------------
    const secrets = secretEnvironment(settings);
    const common: Record<string, string> = {
      NODE_OPTIONS: "--enable-source-maps",
      PHOTOCAT_DATABASE_URL: `dynamodb://${catalogue.tableName}`,
      PHOTOCAT_STORAGE_URL: `s3://${photos.bucketName}`,
      PHOTOCAT_DROP_ZONE_URL: `s3://${dropZone.bucketName}`,
      PHOTOCAT_QUEUE_URL: `sqs://sqs.${Aws.REGION}.${Aws.URL_SUFFIX}/${Aws.ACCOUNT_ID}/${analysis.queue.queueName}?jobs=${jobs.tableName}`,
      PHOTOCAT_QUEUE_MAX_RECEIVES: String(settings.maxReceiveCount),
      PHOTOCAT_ANALYSER: settings.analyser,
      PHOTOCAT_MODEL: settings.model,
      // Search by meaning is not built for DynamoDB yet: its vector search would load every embedding into each
      // API function, and the roles may call only the analyser's model.
      PHOTOCAT_EMBEDDINGS: "off",
      PHOTOCAT_MAX_UPLOAD_MB: String(settings.maxUploadMb),
      PHOTOCAT_VERSION: props.version ?? "0.0.0",
    };

    const makeFunction = (
      name: "Ingest" | "Analysis" | "Api",
      entry: string,
      extra: Partial<lambda.FunctionProps>,
    ) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: settings.logRetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
        description: `Photocat ${name.toLowerCase()} function: only what it uses`,
      });
      // Instead of AWSLambdaBasicExecutionRole (any log group): this function's own group only.
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [logGroup.logGroupArn],
        }),
      );
      suppress(
        role,
        "AwsSolutions-IAM5",
        "Log streams are created by Lambda under its own log group (log-group:<name>:*).",
        [`Resource::<${this.getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup)}.Arn>:*`],
      );
      const fn = photocatFunction(this, name, {
        entry: path.join(REPO_ROOT, entry),
        role,
        logGroup,
        ...extra,
      });
      return { fn, role };
    };

    const ingestFn = makeFunction("Ingest", "src/entry/lambda/ingest.ts", {
      timeout: TIMEOUTS.ingest,
      memorySize: 2048,
      environment: { ...common },
      description: "Photocat: takes files from the drop zone's incoming/ into the catalogue",
    });
    const analysisFn = makeFunction("Analysis", "src/entry/lambda/analysis.ts", {
      timeout: TIMEOUTS.analysis,
      memorySize: 1024,
      environment: {
        ...common,
        // Every try of one photo fits in the function's time (3 x 60 s + backoff < 5 min); beyond
        // that, SQS delivers the message again, up to maxReceiveCount times.
        PHOTOCAT_TIMEOUT_MS: String(ANALYSIS_CALL_TIMEOUT_MS),
        PHOTOCAT_MAX_RETRIES: String(ANALYSIS_CALL_RETRIES),
        ...(secrets.analysis ? { PHOTOCAT_SECRETS: secrets.analysis } : {}),
      },
      description: "Photocat: describes photos with the configured model",
    });
    const apiFn = makeFunction("Api", "src/entry/lambda/api.ts", {
      timeout: TIMEOUTS.api,
      memorySize: 1024,
      environment: {
        ...common,
        PHOTOCAT_SECRETS: secrets.api,
        // The gallery's origin: its POSTs carry it, and the app refuses other origins.
        PHOTOCAT_CORS_ORIGINS: galleryOrigin,
        // A Lambda response holds at most 6 MB: originals go from the bucket at a signed URL instead.
        PHOTOCAT_SIGNED_DOWNLOADS: "on",
      },
      description: "Photocat: the HTTP API (the same Hono app as the Node server)",
    });

    ingestFn.fn.addEventSource(
      new SqsEventSource(ingest.queue, {
        batchSize: BATCH_SIZES.ingest,
        maxConcurrency: settings.ingestConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    analysisFn.fn.addEventSource(
      new SqsEventSource(analysis.queue, {
        batchSize: BATCH_SIZES.analysis,
        maxConcurrency: settings.analysisConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    // ---- Least privilege, per function ---------------------------------------------------------------
    /** cdk-nag's name for each wildcard ARN below, so that each role acknowledges only those it holds. */
    const wildcardFindings = new Map<string, string>();
    const arnOf = (resource: Construct) =>
      `<${this.getLogicalId(resource.node.defaultChild as s3.CfnBucket | dynamodb.CfnTable)}.Arn>`;
    const objects = (bucket: s3.Bucket, prefix = "") => {
      const arn = `${bucket.bucketArn}/${prefix}*`;
      wildcardFindings.set(arn, `Resource::${arnOf(bucket)}/${prefix}*`);
      return arn;
    };
    const heldWildcards = new Map<iam.Role, Set<string>>();
    const allow = (role: iam.Role, actions: string[], resources: string[], conditions?: iam.Conditions) => {
      for (const r of resources) {
        const finding = wildcardFindings.get(r);
        if (finding) heldWildcards.set(role, (heldWildcards.get(role) ?? new Set()).add(finding));
      }
      role.addToPolicy(
        new iam.PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }),
      );
    };
    const tableResources = [catalogue, jobs].flatMap((t) => {
      const indexes = `${t.tableArn}/index/*`;
      wildcardFindings.set(indexes, `Resource::${arnOf(t)}/index/*`);
      return [t.tableArn, indexes];
    });
    const tableActions = [
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:Query",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
    ];
    const sendJobs = ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"];

    for (const { role } of [ingestFn, analysisFn, apiFn]) allow(role, tableActions, tableResources);

    // Ingest: read and remove what arrived, record refusals and results, store photos, queue analyses.
    allow(ingestFn.role, ["s3:GetObject", "s3:DeleteObject"], [objects(dropZone, INCOMING_PREFIX)]);
    allow(
      ingestFn.role,
      ["s3:PutObject", "s3:GetObject"],
      [objects(dropZone, REJECTED_PREFIX), objects(dropZone, RESULTS_PREFIX)],
    );
    allow(ingestFn.role, ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [objects(photos)]);
    allow(ingestFn.role, ["s3:ListBucket"], [photos.bucketArn, dropZone.bucketArn]);
    allow(ingestFn.role, sendJobs, [analysis.queue.queueArn]);

    // Analysis: read photos (and their thumbnails), call the model, queue follow-up jobs.
    allow(analysisFn.role, ["s3:GetObject"], [objects(photos)]);
    allow(analysisFn.role, ["s3:ListBucket"], [photos.bucketArn]);
    allow(analysisFn.role, sendJobs, [analysis.queue.queueArn]);
    if (settings.analyser === "bedrock") grantBedrock(analysisFn.role, settings);

    // API: presigned reads of photos, deletes from the trash, presigned uploads into incoming/, results.
    allow(apiFn.role, ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [objects(photos)]);
    allow(apiFn.role, ["s3:ListBucket"], [photos.bucketArn, dropZone.bucketArn]);
    allow(apiFn.role, ["s3:PutObject"], [objects(dropZone, INCOMING_PREFIX)]);
    allow(
      apiFn.role,
      ["s3:GetObject"],
      [objects(dropZone, RESULTS_PREFIX), objects(dropZone, REJECTED_PREFIX)],
    );
    allow(apiFn.role, sendJobs, [analysis.queue.queueArn]);

    grantSecrets(apiFn.role, [settings.passwordSecret, settings.apiTokensSecret]);
    grantSecrets(analysisFn.role, [settings.providerKeySecret]);

    for (const [role, findings] of heldWildcards) {
      suppress(
        role,
        "AwsSolutions-IAM5",
        "Object ARNs end in a key wildcard (bucket/prefix/*): photos are named by UUIDs unknown until run time. " +
          "Index ARNs end in index/*: the adapters query every index of their tables.",
        [...findings],
      );
    }
    if (settings.analyser === "bedrock") {
      const { foundationModel, inferenceProfile } = bedrockModel(settings.model, settings.region);
      if (inferenceProfile) {
        suppress(
          analysisFn.role,
          "AwsSolutions-IAM5",
          "A cross-region inference profile sends each call to its model in one of several regions, which " +
            "change over time: the model is named exactly and only usable through the configured profile " +
            "(condition bedrock:InferenceProfileArn).",
          [`Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${foundationModel}`],
        );
      }
    }
    for (const fn of [ingestFn.fn, analysisFn.fn, apiFn.fn]) {
      suppress(
        fn,
        "AwsSolutions-L1",
        `${RUNTIME.name} is the long-term-support Node.js line nearest to the versions Photocat is tested on ` +
          "(20 and 22); a newer runtime is adopted once the tests run on it.",
      );
    }

    // ---- HTTP API ------------------------------------------------------------------------------------
    const httpApi = new apigw.HttpApi(this, "HttpApi", {
      description: "Photocat API (reached through CloudFront at /api/*)",
      defaultIntegration: new HttpLambdaIntegration("ApiIntegration", apiFn.fn, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
      // No CORS: the gallery and the API share CloudFront's origin.
    });
    const apiAccessLogs = new logs.LogGroup(this, "HttpApiAccessLogs", {
      retention: settings.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = httpApi.defaultStage?.node.defaultChild as apigw.CfnStage;
    stage.accessLogSettings = {
      destinationArn: apiAccessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: "$context.requestId",
        ip: "$context.identity.sourceIp",
        requestTime: "$context.requestTime",
        method: "$context.httpMethod",
        path: "$context.path",
        status: "$context.status",
        latency: "$context.integrationLatency",
        error: "$context.integrationErrorMessage",
      }),
    };
    // A bound on what a flood of requests can cost (API Gateway answers 429 above it).
    stage.defaultRouteSettings = { throttlingBurstLimit: 200, throttlingRateLimit: 100 };
    for (const route of httpApi.node.findAll().filter((c) => c instanceof apigw.CfnRoute)) {
      suppress(
        route,
        "AwsSolutions-APIG4",
        "The Hono app authorises every /api request itself (password session, API tokens; src/http/auth.ts), " +
          "exactly as the Node server does; a Gateway authoriser would fork that logic.",
      );
    }

    // ---- Gallery on CloudFront -----------------------------------------------------------------------
    const web = privateBucket("Web");
    const headers = new cloudfront.ResponseHeadersPolicy(this, "SecurityHeaders", {
      comment: "Photocat: the app's own security headers, plus HSTS",
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicyHeader({
            imgSrc: [`https://${regionalDomain(photosName)}`],
            connectSrc: [`https://${regionalDomain(dropZoneName)}`],
          }),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });
    // Bookmarked gallery views (/photos/<id>) are the app, as in src/http/web.ts: any path without an
    // extension is answered with index.html.
    const spaPaths = new cloudfront.Function(this, "GalleryPaths", {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: "Photocat: paths without a file extension open the gallery",
      code: cloudfront.FunctionCode.fromInline(
        "function handler(event) { var r = event.request; " +
          "if (r.uri.lastIndexOf('.') <= r.uri.lastIndexOf('/')) r.uri = '/index.html'; return r; }",
      ),
    });
    const distribution = new cloudfront.Distribution(this, "Gallery", {
      comment: "Photocat gallery and API",
      defaultRootObject: "index.html",
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: accessLogs,
      logFilePrefix: "cloudfront/",
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(web),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        functionAssociations: [
          { function: spaPaths, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
      additionalBehaviors: {
        "/api/*": {
          origin: new origins.HttpOrigin(`${httpApi.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`, {
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
          }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          // Nothing of the API is cached; with caching off, Authorization and cookies reach the origin.
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
      },
    });
    gallery = distribution;
    suppress(
      distribution,
      "AwsSolutions-CFR1",
      "A photo gallery for its owner: no country is excluded by default.",
    );
    suppress(
      distribution,
      "AwsSolutions-CFR2",
      "No WAF by default (at least $5 a month plus per-request fees, more than the idle stack): the API needs " +
        "a password or token, refuses more than 10 wrong ones a minute per address, and API Gateway throttles.",
    );
    suppress(
      distribution,
      "AwsSolutions-CFR4",
      "The default *.cloudfront.net certificate cannot pin a minimum TLS version (its policy is fixed by " +
        "CloudFront); a custom domain with its own certificate is not part of this stack yet.",
    );

    if (!existsSync(path.join(WEB_DIST, "index.html"))) {
      throw new Error("The gallery is not built: run `npm run build:web` first (npm run aws:synth does).");
    }
    const webSource = s3deploy.Source.asset(WEB_DIST);
    // Hashed assets never change; index.html and the rest are revalidated (as src/http/web.ts serves them).
    const assets = new s3deploy.BucketDeployment(this, "GalleryAssets", {
      sources: [webSource],
      destinationBucket: web,
      exclude: ["*"],
      include: ["assets/*"],
      prune: false,
      cacheControl: [s3deploy.CacheControl.fromString("public, max-age=31536000, immutable")],
    });
    const pages = new s3deploy.BucketDeployment(this, "GalleryPages", {
      sources: [webSource],
      destinationBucket: web,
      exclude: ["assets/*"],
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution,
      distributionPaths: ["/*"],
    });
    pages.node.addDependency(assets);

    // ---- Alarms --------------------------------------------------------------------------------------
    const alarms = new sns.Topic(this, "Alarms", { displayName: "Photocat alarms", enforceSSL: true });
    if (settings.alarmEmail) alarms.addSubscription(new subscriptions.EmailSubscription(settings.alarmEmail));
    suppress(
      alarms,
      "AwsSolutions-SNS2",
      "Alarm notices carry no photo or user data; CloudWatch cannot publish to a topic under the AWS-managed " +
        "SNS key, and a customer key would cost $1 a month on an otherwise idle stack.",
    );
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string, threshold = 1) =>
      new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(new SnsAction(alarms));
    const fiveMinutes = { period: Duration.minutes(5) };
    alarm(
      "IngestDeadLettersAlarm",
      ingest.deadLetters.metricApproximateNumberOfMessagesVisible({ ...fiveMinutes, statistic: "Maximum" }),
      "Files in incoming/ could not be ingested after every retry: see the ingest dead-letter queue and the ingest logs.",
    );
    alarm(
      "AnalysisDeadLettersAlarm",
      analysis.deadLetters.metricApproximateNumberOfMessagesVisible({ ...fiveMinutes, statistic: "Maximum" }),
      "Analysis jobs failed past their last attempt: their photos show as failed and can be retried.",
    );
    for (const [id, { fn }] of Object.entries({ Ingest: ingestFn, Analysis: analysisFn, Api: apiFn })) {
      alarm(
        `${id}ErrorsAlarm`,
        fn.metricErrors({ ...fiveMinutes, statistic: "Sum" }),
        `The ${id} function failed (see its logs).`,
      );
      alarm(
        `${id}ThrottlesAlarm`,
        fn.metricThrottles({ ...fiveMinutes, statistic: "Sum" }),
        `The ${id} function was throttled: the account's concurrency is exhausted.`,
        5,
      );
    }
    alarm(
      "AnalysisBacklogAlarm",
      analysis.queue.metricApproximateAgeOfOldestMessage({ ...fiveMinutes, statistic: "Maximum" }),
      "Photos have waited over an hour for analysis: the model is throttled or failing.",
      3600,
    );
    alarm(
      "ApiServerErrorsAlarm",
      httpApi.metricServerError({ ...fiveMinutes, statistic: "Sum" }),
      "The API answered 5xx.",
      5,
    );

    // ---- CDK's own deploy-time helpers -------------------------------------------------------------
    const partition = Token.isUnresolved(this.partition) ? "<AWS::Partition>" : this.partition;
    for (const child of this.node.children) {
      const helper = /^(BucketNotificationsHandler|Custom::CDKBucketDeployment)/.exec(child.node.id)?.[1];
      if (!helper) continue;
      const what =
        helper === "BucketNotificationsHandler"
          ? "CDK's handler that sets the drop zone's event notification at deploy time"
          : "CDK's BucketDeployment handler that copies the built gallery into the web bucket at deploy time";
      suppress(child, "AwsSolutions-IAM4", `${what}: CDK defines its role (basic Lambda logging).`, [
        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
      ]);
      suppress(child, "AwsSolutions-L1", `${what}: CDK chooses and updates its runtime.`);
      if (helper === "Custom::CDKBucketDeployment") {
        suppress(
          child,
          "AwsSolutions-IAM5",
          `${what}: CDK grants it read on the CDK asset bucket and write on the web bucket (whole bucket: it ` +
            "syncs and prunes every file of the gallery), and CloudFront invalidation (which takes no resource).",
          [
            "Action::s3:GetObject*",
            "Action::s3:GetBucket*",
            "Action::s3:List*",
            "Action::s3:DeleteObject*",
            "Action::s3:Abort*",
            `Resource::arn:${partition}:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${settings.region}/*`,
            `Resource::<${this.getLogicalId(web.node.defaultChild as s3.CfnBucket)}.Arn>/*`,
            "Resource::*",
          ],
        );
      }
    }

    this.parts = {
      buckets: { photos, dropZone, web, accessLogs },
      tables: { catalogue, jobs },
      queues: { ingest, analysis },
      functions: { ingest: ingestFn, analysis: analysisFn, api: apiFn },
      httpApi,
      distribution,
      alarms,
    };

    // ---- Outputs -------------------------------------------------------------------------------------
    new CfnOutput(this, "GalleryUrl", {
      value: `https://${distribution.distributionDomainName}`,
      description: "Open this",
    });
    new CfnOutput(this, "DropZoneIncoming", {
      value: `s3://${dropZone.bucketName}/${INCOMING_PREFIX}`,
      description: "Files copied here are ingested (aws s3 cp photo.jpg <this>)",
    });
    new CfnOutput(this, "AlarmTopic", { value: alarms.topicArn });
  }
}

interface QueuePair {
  queue: sqs.Queue;
  deadLetters: sqs.Queue;
}
interface FunctionWithRole {
  fn: lambda.Function;
  role: iam.Role;
}
export interface PhotocatParts {
  buckets: Record<"photos" | "dropZone" | "web" | "accessLogs", s3.Bucket>;
  tables: Record<"catalogue" | "jobs", dynamodb.Table>;
  queues: Record<"ingest" | "analysis", QueuePair>;
  functions: Record<"ingest" | "analysis" | "api", FunctionWithRole>;
  httpApi: apigw.HttpApi;
  distribution: cloudfront.Distribution;
  alarms: sns.Topic;
}

/**
 * A table as src/adapters/dynamodb (CATALOG_TABLE) and src/adapters/queue/sqs (JOBS_TABLE) define
 * theirs; every key attribute is named with its type.
 */
interface KeyAttribute {
  name: string;
  type: string;
}
interface TableDefinition {
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  timeToLiveAttribute?: string;
  globalSecondaryIndexes: readonly {
    indexName: string;
    partitionKey: KeyAttribute;
    sortKey?: KeyAttribute;
    projectionType?: string;
    projection?: string;
  }[];
}

/** The table a definition describes, on-demand, with point-in-time recovery and encryption at rest. */
function tableFrom(scope: Construct, id: string, def: TableDefinition) {
  const types: Record<string, dynamodb.AttributeType> = {
    S: dynamodb.AttributeType.STRING,
    N: dynamodb.AttributeType.NUMBER,
    B: dynamodb.AttributeType.BINARY,
  };
  const attribute = (key: KeyAttribute): dynamodb.Attribute => {
    const type = types[key.type];
    if (!type) throw new Error(`table ${id}: key ${key.name} has type ${key.type}`);
    return { name: key.name, type };
  };
  const keys = (k: { partitionKey: KeyAttribute; sortKey?: KeyAttribute }) => ({
    partitionKey: attribute(k.partitionKey),
    ...(k.sortKey ? { sortKey: attribute(k.sortKey) } : {}),
  });
  const table = new dynamodb.Table(scope, id, {
    ...keys(def),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
    ...(def.timeToLiveAttribute ? { timeToLiveAttribute: def.timeToLiveAttribute } : {}),
  });
  const projections: Record<string, dynamodb.ProjectionType> = {
    ALL: dynamodb.ProjectionType.ALL,
    KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
  };
  for (const gsi of def.globalSecondaryIndexes) {
    const projection = gsi.projectionType ?? gsi.projection ?? "ALL";
    const projectionType = projections[projection];
    if (!projectionType) throw new Error(`table ${id}: index ${gsi.indexName} projects ${projection}`);
    table.addGlobalSecondaryIndex({ indexName: gsi.indexName, ...keys(gsi), projectionType });
  }
  return table;
}

/** Secrets the functions read at start (src/entry/lambda/secrets.ts): setting name -> where it lives. */
function secretEnvironment(settings: DeploySettings) {
  const ref = (s: SecretRef) => `${s.kind}:${s.name}`;
  const api: Record<string, string> = {};
  if (settings.passwordSecret) api.PHOTOCAT_PASSWORD = ref(settings.passwordSecret);
  if (settings.apiTokensSecret) api.PHOTOCAT_API_TOKENS = ref(settings.apiTokensSecret);
  const keyName = settings.analyser === "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
  const analysis = settings.providerKeySecret ? { [keyName]: ref(settings.providerKeySecret) } : null;
  return { api: JSON.stringify(api), analysis: analysis ? JSON.stringify(analysis) : null };
}

function grantSecrets(role: iam.Role, refs: (SecretRef | null)[]) {
  for (const ref of refs) {
    if (!ref) continue;
    if (ref.kind === "ssm") {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ["ssm:GetParameter"],
          resources: [`arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:parameter${ref.name}`],
        }),
      );
    } else {
      // A name matches its ARN with Secrets Manager's six random characters after it.
      const arn = ref.name.startsWith("arn:")
        ? ref.name
        : `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${ref.name}-??????`;
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [arn] }),
      );
    }
  }
}

/**
 * Bedrock: InvokeModel (which also authorises Converse) on the configured inference profile and, through
 * that profile only, on its foundation model in whichever region the profile routes to; or on the
 * foundation model of the deploy region when no profile is used.
 */
function grantBedrock(role: iam.Role, settings: DeploySettings) {
  const { foundationModel, inferenceProfile } = bedrockModel(settings.model, settings.region);
  const invoke = ["bedrock:InvokeModel"];
  if (!inferenceProfile) {
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: invoke,
        resources: [`arn:${Aws.PARTITION}:bedrock:${Aws.REGION}::foundation-model/${foundationModel}`],
      }),
    );
    return;
  }
  const profileArn = `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}:${Aws.ACCOUNT_ID}:inference-profile/${inferenceProfile}`;
  role.addToPolicy(new iam.PolicyStatement({ actions: invoke, resources: [profileArn] }));
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: invoke,
      // The profile's destination regions change over time (a global profile has no region at all).
      resources: [`arn:${Aws.PARTITION}:bedrock:*::foundation-model/${foundationModel}`],
      conditions: { StringEquals: { "bedrock:InferenceProfileArn": profileArn } },
    }),
  );
}

/** Reads package.json's version for the API's /healthz and about box. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string })
    .version;
}
