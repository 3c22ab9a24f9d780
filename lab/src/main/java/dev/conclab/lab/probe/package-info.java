/**
 * CPython probes: small Python scripts shipped as resources under {@code probes/}, run by a real CPython beside
 * the JVM so that both sides of an answer are measured. A probe prints one JSON object on standard output.
 *
 * <p>The interpreter is {@code CONCLAB_PYTHON} when that variable is set, else the first of the system's
 * {@code python3} interpreters that has the libraries the probe needs (on Debian, {@code /usr/bin/python3} holds
 * Debian's Python packages). When none qualifies the probe is {@link dev.conclab.lab.probe.ProbeOutcome.Unavailable
 * unavailable}, and the claims that need it are SKIPPED with that reason — never failed, never made up.
 */
package dev.conclab.lab.probe;
