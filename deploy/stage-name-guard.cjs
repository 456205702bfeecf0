/**
 * Serverless plugin: refuses a stage whose name would make a resource name longer than AWS
 * allows, before anything is bundled or deployed. The stage is part of every function, queue and
 * table name (`dingtalk-wecom-sync-<stage>-reconcile` is 30 characters plus the stage), and AWS
 * would otherwise reject the stack half-way through a deploy.
 *
 * The limits checked are AWS's: Lambda function names ≤ 64 characters, SQS queue names ≤ 80
 * (`.fifo` included), DynamoDB table names ≤ 255.
 */
'use strict';

const LIMITS = [
  { what: 'Lambda function name', limit: 64 },
  { what: 'SQS queue name', limit: 80, property: 'QueueName' },
  { what: 'DynamoDB table name', limit: 255, property: 'TableName' },
];

class StageNameGuard {
  constructor(serverless) {
    this.serverless = serverless;
    const check = () => this.check();
    this.hooks = {
      'before:package:initialize': check,
      // `deploy --package <dir>` skips packaging: check there too.
      'before:deploy:deploy': check,
    };
  }

  /** Every generated name with its limit, as the framework has resolved them. */
  names() {
    const service = this.serverless.service;
    const out = [];
    for (const fn of service.getAllFunctions()) out.push({ ...LIMITS[0], name: service.getFunction(fn).name });
    const resources = service.resources?.Resources ?? {};
    for (const resource of Object.values(resources)) {
      for (const limit of LIMITS.slice(1)) {
        const name = resource?.Properties?.[limit.property];
        if (typeof name === 'string') out.push({ ...limit, name });
      }
    }
    return out;
  }

  check() {
    const stage = this.serverless.getProvider('aws').getStage();
    const over = this.names().filter((n) => n.name.length > n.limit);
    if (over.length === 0) return;
    const worst = over.reduce((a, b) => (b.name.length - b.limit > a.name.length - a.limit ? b : a));
    const longest = stage.length - (worst.name.length - worst.limit);
    throw new this.serverless.classes.Error(
      `Stage name "${stage}" is too long: the ${worst.what} "${worst.name}" would be ${worst.name.length} characters, over AWS's limit of ${worst.limit}. Use a stage name of at most ${longest} characters.`,
    );
  }
}

module.exports = StageNameGuard;
