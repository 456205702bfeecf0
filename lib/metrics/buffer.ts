/**
 * What a recorder holds until it is flushed: metrics grouped by their dimensions (one EMF line
 * per group), counts summed, timings kept one value each (CloudWatch computes percentiles from
 * them). Pure: no I/O.
 */
import type { Dimensions, MetricName, MetricUnit } from './metrics';

export interface MetricGroup {
  dimensions: Dimensions;
  metrics: Map<MetricName, { unit: MetricUnit; values: number[] }>;
}

/** EMF takes at most 100 values per metric in one line. */
export const MAX_VALUES_PER_LINE = 100;

export class MetricBuffer {
  private groups = new Map<string, MetricGroup>();

  add(name: MetricName, unit: MetricUnit, value: number, dimensions: Dimensions = {}): void {
    if (!Number.isFinite(value)) return;
    const key = JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let group = this.groups.get(key);
    if (!group) {
      group = { dimensions: { ...dimensions }, metrics: new Map() };
      this.groups.set(key, group);
    }
    const metric = group.metrics.get(name);
    if (!metric) group.metrics.set(name, { unit, values: [value] });
    else if (unit === 'Count') metric.values[0] = (metric.values[0] ?? 0) + value;
    else metric.values.push(value);
  }

  /** The groups held so far, emptying the buffer. Groups whose timings exceed one line are split. */
  take(): MetricGroup[] {
    const out: MetricGroup[] = [];
    for (const group of this.groups.values()) {
      let rest = group;
      for (;;) {
        const now: MetricGroup = { dimensions: rest.dimensions, metrics: new Map() };
        const later: MetricGroup = { dimensions: rest.dimensions, metrics: new Map() };
        for (const [name, m] of rest.metrics) {
          now.metrics.set(name, { unit: m.unit, values: m.values.slice(0, MAX_VALUES_PER_LINE) });
          if (m.values.length > MAX_VALUES_PER_LINE) later.metrics.set(name, { unit: m.unit, values: m.values.slice(MAX_VALUES_PER_LINE) });
        }
        out.push(now);
        if (later.metrics.size === 0) break;
        rest = later;
      }
    }
    this.groups = new Map();
    return out;
  }
}
