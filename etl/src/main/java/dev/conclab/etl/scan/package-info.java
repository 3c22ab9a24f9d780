/**
 * The per-range work: scan a byte range, validate, transform, aggregate into a primitive map; and the newline count
 * used as the throughput ceiling.
 */
package dev.conclab.etl.scan;
