/** Small PromQL builders shared by the adapters, so every engine's queries have the same shape. */

/** `sum(metric{selector})`: a gauge summed over replicas. */
export const sumGauge = (metric: string, selector: string): string => `sum(${metric}{${selector}})`;

/** `sum(rate(metric{selector}[window]))`: a counter's per-second rate over replicas. */
export const sumRate = (metric: string, selector: string, window: string): string =>
  `sum(rate(${metric}{${selector}}[${window}]))`;

/** A quantile of a Prometheus histogram (`<name>_bucket` series) over replicas. */
export const histogramQuantile = (quantile: number, histogram: string, selector: string, window: string): string =>
  `histogram_quantile(${quantile}, sum by (le) (rate(${histogram}_bucket{${selector}}[${window}])))`;

/** p99 of a Prometheus histogram over replicas. */
export const histogramP99 = (histogram: string, selector: string, window: string): string =>
  histogramQuantile(0.99, histogram, selector, window);

/** Mean of a Prometheus histogram (`<name>_sum` / `<name>_count`) over replicas. */
export const histogramMean = (histogram: string, selector: string, window: string): string =>
  `${sumRate(`${histogram}_sum`, selector, window)} / ${sumRate(`${histogram}_count`, selector, window)}`;

/** failed / all, as a ratio of two counters' rates. */
export const ratioOfRates = (failed: string, all: string, selector: string, window: string): string =>
  `${sumRate(failed, selector, window)} / ${sumRate(all, selector, window)}`;

/**
 * Requests in flight from a latency histogram, by Little's law: the rate of the summed durations is the mean
 * number of requests being processed. For engines that export no in-flight gauge.
 */
export const inFlightFromDuration = (histogram: string, selector: string, window = "1m"): string =>
  `sum(rate(${histogram}_sum{${selector}}[${window}]))`;
