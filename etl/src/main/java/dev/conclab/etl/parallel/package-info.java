/**
 * Running the ETL scan on worker processes instead of {@link dev.conclab.etl.EtlJob}'s threads:
 * {@link dev.conclab.etl.parallel.ProcessRangeScan} scans byte ranges in worker JVMs of the toolkit's
 * {@code ProcessPool} and hands back the same {@link dev.conclab.etl.scan.RangeResult}s a scanner in this JVM
 * would produce, so the same job can be compared on one thread, on threads and on processes with identical results.
 */
package dev.conclab.etl.parallel;
