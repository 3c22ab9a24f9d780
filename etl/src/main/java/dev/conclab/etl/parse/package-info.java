/**
 * Record parsers working on bytes in place (CSV and JSON lines), the reusable field holder, and the order schema
 * (statuses, currencies, the EUR transform).
 */
package dev.conclab.etl.parse;
