package dev.conclab.lab.experiments.tasks;

import dev.conclab.jobs.broker.TaskRecord;
import dev.conclab.jobs.client.JobClient;
import dev.conclab.jobs.task.TaskState;
import dev.conclab.lab.probe.ProbeException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * Submits a batch of identical tasks and reads back where and when they ran, from the broker's records: the span is
 * taken on the workers' clock (first start to last finish), so the client's polling is not timed. Stateless.
 */
final class JobBatches {

    /** What one batch did. */
    record Batch(List<TaskRecord> records, double wallSeconds) {

        /** First start to last finish, in seconds, as the workers recorded them. */
        double spanSeconds() {
            long start = records.stream().mapToLong(TaskRecord::startedMillis).min().orElseThrow();
            long end = records.stream().mapToLong(TaskRecord::finishedMillis).max().orElseThrow();
            return (end - start) / 1e3;
        }

        /** How many tasks each named consumer ran, in the order consumers first appear. */
        java.util.Map<String, Long> perWorker() {
            java.util.Map<String, Long> counts = new java.util.LinkedHashMap<>();
            records.forEach(r -> counts.merge(r.worker(), 1L, Long::sum));
            return counts;
        }
    }

    private JobBatches() {
    }

    /**
     * Submits {@code n} calls of {@code name(args)} and waits until all are final.
     *
     * @throws ProbeException if one did not succeed, or the batch took longer than {@code timeout}
     */
    static Batch run(JobClient client, int n, Duration timeout, String name, Object... args)
            throws InterruptedException {
        long began = System.nanoTime();
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(client.submit(name, args));
        }
        List<TaskRecord> records = new ArrayList<>(n);
        try {
            for (String id : ids) {
                TaskRecord r = client.await(id, timeout);
                if (r.state() != TaskState.SUCCESS) {
                    throw new ProbeException("task " + name + " " + id + " ended " + r.state() + ": " + r.error());
                }
                records.add(r);
            }
        } catch (TimeoutException e) {
            throw new ProbeException("a batch of " + n + " " + name + " tasks did not finish within " + timeout, e);
        }
        return new Batch(List.copyOf(records), (System.nanoTime() - began) / 1e9);
    }
}
