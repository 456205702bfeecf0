/**
 * CloudWatch embedded metric format written by hand: one JSON line per group of dimensions, on
 * stdout, where Lambda sends it to CloudWatch Logs and CloudWatch extracts the metrics. The
 * callback uses this rather than Powertools Metrics: a few lines instead of a library in the
 * bundle that DingTalk's 1.5-second deadline waits on at a cold start.
 */
import { MetricBuffer, type MetricGroup } from './buffer';
import { type Dimensions, type FlushableMetrics, METRICS_NAMESPACE, type MetricName, type MetricUnit } from './metrics';

/** One EMF line for one group: the `service` dimension first, then the group's own. */
function emfLine(group: MetricGroup, service: string, timestamp: number, namespace = METRICS_NAMESPACE): string {
  const dimensionNames = ['service', ...Object.keys(group.dimensions)];
  const body: Record<string, unknown> = {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [dimensionNames],
          Metrics: [...group.metrics].map(([name, m]) => ({ Name: name, Unit: m.unit })),
        },
      ],
    },
    service,
    ...group.dimensions,
  };
  for (const [name, m] of group.metrics) body[name] = m.values.length === 1 ? m.values[0] : m.values;
  return JSON.stringify(body);
}

export class EmfMetrics implements FlushableMetrics {
  private readonly buffer = new MetricBuffer();

  constructor(private readonly opts: { service: string; write?: (line: string) => void; now?: () => number }) {}

  add(name: MetricName, unit: MetricUnit, value: number, dimensions?: Dimensions): void {
    this.buffer.add(name, unit, value, dimensions);
  }

  flush(): void {
    const write = this.opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
    const timestamp = (this.opts.now ?? Date.now)();
    for (const group of this.buffer.take()) write(emfLine(group, this.opts.service, timestamp));
  }
}
