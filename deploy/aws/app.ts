import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { readSettings, type SettingName, SettingsError } from "./settings.js";
import { PhotocatStack, packageVersion } from "./stack.js";

/** Builds the app: one stack, checked by cdk-nag's AwsSolutions rules (a finding fails the synth). */
export function buildApp(app: App): PhotocatStack {
  const settings = readSettings((name: SettingName) => app.node.tryGetContext(name));
  const stack = new PhotocatStack(
    app,
    (app.node.tryGetContext("stackName") as string | undefined) ?? "Photocat",
    {
      env: { region: settings.region, account: process.env.CDK_DEFAULT_ACCOUNT },
      settings,
      version: packageVersion(),
      description:
        "Photocat: AI photo catalogue (S3, SQS, Lambda, Bedrock, DynamoDB, API Gateway, CloudFront)",
    },
  );
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    buildApp(new App());
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    console.error(`photocat: ${error.message}`);
    process.exit(2);
  }
}
