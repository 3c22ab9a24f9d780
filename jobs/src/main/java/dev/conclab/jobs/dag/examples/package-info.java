/** The example DAGs shipped with the scheduler ({@link dev.conclab.jobs.dag.examples.ExampleDags}). */
package dev.conclab.jobs.dag.examples;
