package dev.conclab.lab.web;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The book of one kind of run (experiment runs, system runs): new ids, the running run of each key (experiment or
 * system), and every kept run by id, oldest first, with the ended ones beyond a limit dropped.
 *
 * <p><b>Not thread-safe:</b> its owner guards every call with its own lock.
 *
 * @param <R> the run type
 */
final class RunBook<R> {

    private final String prefix;
    private final int kept;
    private final Map<String, R> runs = new LinkedHashMap<>();
    private final Map<String, R> running = new HashMap<>();
    private long counter;

    /**
     * @param prefix the ids' prefix, e.g. {@code r}
     * @param kept   how many ended runs are kept
     */
    RunBook(String prefix, int kept) {
        this.prefix = prefix;
        this.kept = kept;
    }

    /** A new id: the prefix, a sequence number and a random suffix, e.g. {@code r-1a-k3x9}. */
    String newId() {
        counter++;
        String suffix = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36, 36 * 36 * 36 * 36), 36);
        return prefix + "-" + Long.toString(counter, 36) + "-" + suffix;
    }

    /** Records {@code run} (with {@code id}) as the running run of {@code key}. */
    void started(String key, String id, R run) {
        runs.put(id, run);
        running.put(key, run);
    }

    /** {@code run} of {@code key} has ended: it is no longer running, and the oldest ended runs beyond the limit go. */
    void ended(String key, R run) {
        running.remove(key, run);
        int ended = runs.size() - running.size();
        for (Iterator<R> it = runs.values().iterator(); ended > kept && it.hasNext(); ) {
            if (!running.containsValue(it.next())) {
                it.remove();
                ended--;
            }
        }
    }

    /** The run with {@code id}, running or kept. */
    Optional<R> run(String id) {
        return Optional.ofNullable(runs.get(id));
    }

    /** The running run of {@code key}. */
    Optional<R> running(String key) {
        return Optional.ofNullable(running.get(key));
    }

    int runningCount() {
        return running.size();
    }

    List<R> runningNow() {
        return new ArrayList<>(running.values());
    }
}
