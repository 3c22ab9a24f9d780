/**
 * The file ETL system: {@link dev.conclab.etl.input.OrderGenerator} writes deterministic order files,
 * {@link dev.conclab.etl.input.RangeSplitter} cuts them into byte ranges at line boundaries,
 * {@link dev.conclab.etl.scan.RangeScanner} parses a range from bytes (never a String per line), validates, transforms and
 * aggregates it, {@link dev.conclab.etl.checkpoint.CheckpointStore} commits each finished range atomically, and an
 * {@link dev.conclab.etl.load.AggregateSink} loads the final aggregates. {@link dev.conclab.etl.EtlJob} drives them.
 */
package dev.conclab.etl;
