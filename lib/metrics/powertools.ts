/**
 * The workers' metrics through Powertools for AWS Lambda's Metrics: it writes the EMF lines
 * (validating names, units and dimension limits). Entries are grouped first (buffer.ts): one
 * Powertools instance per group of dimensions, so one batch's outcomes of several kinds cost a
 * line per kind, not a line per message.
 */
import { Metrics, MetricUnit as PowertoolsUnit } from '@aws-lambda-powertools/metrics';
import { MetricBuffer } from './buffer';
import { type Dimensions, type FlushableMetrics, METRICS_NAMESPACE, type MetricName, type MetricUnit } from './metrics';

const UNITS: Record<MetricUnit, Parameters<Metrics['addMetric']>[1]> = { Count: PowertoolsUnit.Count, Milliseconds: PowertoolsUnit.Milliseconds };

export class PowertoolsMetrics implements FlushableMetrics {
  private readonly buffer = new MetricBuffer();

  constructor(private readonly service: string) {}

  add(name: MetricName, unit: MetricUnit, value: number, dimensions?: Dimensions): void {
    this.buffer.add(name, unit, value, dimensions);
  }

  flush(): void {
    for (const group of this.buffer.take()) {
      const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: this.service, defaultDimensions: { ...group.dimensions } });
      for (const [name, m] of group.metrics) for (const value of m.values) metrics.addMetric(name, UNITS[m.unit], value);
      metrics.publishStoredMetrics();
    }
  }
}
