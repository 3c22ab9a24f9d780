/**
 * Input side of the ETL: byte ranges cut at line boundaries, the deterministic order generator, size parsing.
 */
package dev.conclab.etl.input;
