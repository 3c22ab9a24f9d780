/**
 * The doctor: diagnoses a running JVM of the same user from outside, from thread dumps taken with
 * {@code jcmd PID Thread.print -l}. {@link dev.conclab.toolkit.diagnostics.doctor.Doctor} samples and returns a
 * {@link dev.conclab.toolkit.diagnostics.doctor.Diagnosis} of sealed
 * {@link dev.conclab.toolkit.diagnostics.doctor.Finding}s (deadlock cycles, stalls, contention hot spots, virtual
 * threads pinned to their carriers, thread overuse, child processes), each with its evidence; the analyses
 * themselves are pure functions in {@link dev.conclab.toolkit.diagnostics.doctor.DumpAnalysis}, testable on
 * stored dumps.
 * {@link dev.conclab.toolkit.diagnostics.doctor.SickJvm} is a child-JVM main that makes itself sick on purpose, for
 * tests and {@code conclab doctor --self-test}.
 */
package dev.conclab.toolkit.diagnostics.doctor;
