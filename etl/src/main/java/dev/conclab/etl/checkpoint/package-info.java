/**
 * The SQLite checkpoint: each finished range is committed in one transaction, which is what makes a resumed run
 * load every record exactly once.
 */
package dev.conclab.etl.checkpoint;
