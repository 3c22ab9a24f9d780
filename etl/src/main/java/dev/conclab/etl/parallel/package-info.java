/**
 * Ways to run the ETL scan other than {@link dev.conclab.etl.EtlJob}'s pipeline: accumulating range results in one
 * place ({@link dev.conclab.etl.parallel.ScanTotals}) and scanning ranges in worker JVMs of the toolkit's
 * {@code ProcessPool} ({@link dev.conclab.etl.parallel.ProcessRangeScan}), so the same job can be compared on one
 * thread, on threads and on processes with identical results.
 */
package dev.conclab.etl.parallel;
