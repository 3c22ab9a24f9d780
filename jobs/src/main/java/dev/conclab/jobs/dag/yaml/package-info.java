/** DAG files in YAML: {@link dev.conclab.jobs.dag.yaml.DagFileLoader} and its errors. */
package dev.conclab.jobs.dag.yaml;
