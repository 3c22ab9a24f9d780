/** The ETL job's throughput over a CSV file set in the page cache, beside a newline count of the same files. */
package dev.conclab.bench.etl;
