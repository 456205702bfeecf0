/**
 * The service's metrics: names, units and dimensions, and the port the code records them
 * through. Each entry point flushes them as CloudWatch embedded metric format (EMF) lines in its
 * log, which CloudWatch turns into metrics without an API call: the callback with a few lines of
 * its own (emf.ts, to keep its bundle small), the workers through Powertools (powertools.ts).
 *
 * serverless.yml's alarms, dashboard and saved queries name these metrics; the deploy test
 * checks them against this file.
 */

export const METRICS_NAMESPACE = 'DingTalkWeComSync';

/** Every metric this service records. Dimensions besides `service` are named per metric. */
export const METRIC = {
  /** Callback requests answered with the encrypted `success`. */
  callbackAccepted: 'CallbackAccepted',
  /** Callback requests refused, by `Reason` (the log's `reason`: bad_signature, owner_key_mismatch, …). */
  callbackRejected: 'CallbackRejected',
  /** Callback answers 500 or 503: DingTalk retries, then lists the push as failed. */
  callbackServerErrors: 'CallbackServerErrors',
  /** Change messages put on the queue (callback and failed-push sweep). */
  messagesEnqueued: 'MessagesEnqueued',
  /** Outcomes of syncing one entity, by `Result` (the history's result). */
  syncResults: 'SyncResults',
  /** DingTalk event time → WeCom write, for changes a push (or the failed-push sweep) announced. */
  propagationLatency: 'PropagationLatency',
  /** Answers that said "too many calls", by `Platform`. */
  throttles: 'Throttles',
  /** Queue messages the worker handed back for a retry. */
  retriedMessages: 'RetriedMessages',
  /** Reconcile runs, by `Status` (success, partial, failed, blocked, locked). */
  reconcileRuns: 'ReconcileRuns',
  reconcileDuration: 'ReconcileDuration',
  /** A reconcile run's counts, by `Operation` (create_user, update_dept, …). */
  reconcileOperations: 'ReconcileOperations',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
export type MetricUnit = 'Count' | 'Milliseconds';
export type Dimensions = Readonly<Record<string, string>>;

export interface MetricsRecorder {
  add(name: MetricName, unit: MetricUnit, value: number, dimensions?: Dimensions): void;
}

/** A recorder whose entries go out (as EMF lines) when flushed: once per invocation. */
export interface FlushableMetrics extends MetricsRecorder {
  flush(): void;
}

/**
 * The `service` dimension every metric carries: Powertools' POWERTOOLS_SERVICE_NAME, which
 * serverless.yml sets to `<service>-<stage>` so that two stages in one account stay apart.
 */
export function metricsService(env: Record<string, string | undefined> = process.env): string {
  return env.POWERTOOLS_SERVICE_NAME?.trim() || 'dingtalk-wecom-sync';
}

/** Metrics kept in memory: for tests and benchmarks that read what was recorded. */
export function createMemoryMetrics(): FlushableMetrics & {
  entries: { name: MetricName; unit: MetricUnit; value: number; dimensions: Dimensions }[];
  /** The sum of a metric's values, over entries whose dimensions include `dimensions`. */
  sum(name: MetricName, dimensions?: Dimensions): number;
  values(name: MetricName): number[];
} {
  const entries: { name: MetricName; unit: MetricUnit; value: number; dimensions: Dimensions }[] = [];
  const matching = (name: MetricName, dimensions: Dimensions = {}) =>
    entries.filter((e) => e.name === name && Object.entries(dimensions).every(([k, v]) => e.dimensions[k] === v));
  return {
    entries,
    add: (name, unit, value, dimensions = {}) => entries.push({ name, unit, value, dimensions }),
    flush: () => undefined,
    sum: (name, dimensions) => matching(name, dimensions).reduce((n, e) => n + e.value, 0),
    values: (name) => matching(name).map((e) => e.value),
  };
}
