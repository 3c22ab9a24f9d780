package dev.conclab.toolkit.diagnostics.doctor;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the text of {@code jcmd PID Thread.print -l} (HotSpot's thread dump, the {@code jstack -l} format) into a
 * {@link ThreadDump}. The text format is chosen over {@code Thread.dump_to_file -format=json} because on JDK 25 only
 * the text names the owner of an ownable synchronizer ({@code ReentrantLock}), which a deadlock cycle through such
 * locks needs; the JSON form lacks it.
 *
 * <p>Only "real" threads are kept: JVM-internal threads without a Java stack state line (GC, compiler) are
 * skipped, as is the trailing "Found one Java-level deadlock" section (the analysis finds cycles itself, from the
 * per-thread lock lines). A carrier's "Mounted virtual thread #N" section becomes a {@link MountedVirtualThread}
 * (the text dump lists no unmounted virtual thread). Lines it does not understand are ignored, so a newer JDK
 * adding lines does not break it.
 *
 * <p>Stateless and thread-safe.
 */
public final class ThreadDumpParser {
    private static final Pattern HEADER = Pattern.compile("^\"(.*)\" #\\d+.*$");
    private static final Pattern STATE = Pattern.compile("^\\s+java\\.lang\\.Thread\\.State: (\\w+).*$");
    private static final Pattern FRAME = Pattern.compile("^\\s+at (.+)$");
    private static final Pattern LOCK_LINE =
            Pattern.compile("^\\s+- (waiting to lock|parking to wait for|waiting on|locked|waiting to re-lock in wait\\(\\)) +<(0x[0-9a-f]+)> \\(a (.+)\\)$");
    private static final Pattern OWNABLE = Pattern.compile("^\\s+- <(0x[0-9a-f]+)> \\(a (.+)\\)$");
    private static final Pattern MOUNTED = Pattern.compile("^\\s+Mounted virtual thread (#\\d+)\\s*$");

    private ThreadDumpParser() {
    }

    /**
     * Parses one dump.
     *
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the text contains no thread at all (not a thread dump)
     */
    public static ThreadDump parse(String text, Instant takenAt) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(takenAt, "takenAt");
        List<ThreadSample> threads = new ArrayList<>();
        List<MountedVirtualThread> mounted = new ArrayList<>();
        Builder current = null;
        boolean inOwnable = false;
        for (String line : text.split("\\R")) {
            if (line.startsWith("Found one Java-level deadlock") || line.startsWith("Found ")
                    && line.contains("deadlock")) {
                break;
            }
            Matcher m;
            if (line.startsWith("\"") && (m = HEADER.matcher(line)).matches()) {
                addIfThread(threads, mounted, current);
                current = new Builder(m.group(1), line.contains(" daemon "));
                inOwnable = false;
            } else if (current == null) {
                continue;
            } else if ((m = MOUNTED.matcher(line)).matches()) {
                // The carrier's own frames end here; the mounted virtual thread's stack follows.
                current.mountedId = m.group(1);
            } else if (current.mountedId != null && (m = FRAME.matcher(line)).matches()) {
                current.mountedFrames.add(m.group(1));
            } else if ((m = STATE.matcher(line)).matches()) {
                current.state = Thread.State.valueOf(m.group(1));
            } else if ((m = FRAME.matcher(line)).matches()) {
                current.frames.add(m.group(1));
            } else if ((m = LOCK_LINE.matcher(line)).matches()) {
                LockId lock = new LockId(m.group(2), m.group(3));
                switch (m.group(1)) {
                    case "locked" -> current.held.add(lock);
                    default -> {
                        // The first wait line is the one the thread is stuck at; a "waiting on" (Object.wait)
                        // monitor is released while waiting, so it is a wait, not a holding.
                        if (current.waitingFor == null) {
                            current.waitingFor = lock;
                            current.waitingIndex = current.frames.size() - 1;
                            current.acquiring = !m.group(1).equals("waiting on");
                        }
                    }
                }
            } else if (line.strip().equals("Locked ownable synchronizers:")) {
                inOwnable = true;
            } else if (inOwnable && (m = OWNABLE.matcher(line)).matches()) {
                current.held.add(new LockId(m.group(1), m.group(2)));
            }
        }
        addIfThread(threads, mounted, current);
        if (threads.isEmpty() && mounted.isEmpty()) {
            throw new IllegalArgumentException("not a thread dump: no thread with a java.lang.Thread.State line");
        }
        return new ThreadDump(takenAt, threads, mounted);
    }

    private static void addIfThread(List<ThreadSample> threads, List<MountedVirtualThread> mounted, Builder b) {
        if (b == null) {
            return;
        }
        // A carrier that carries a virtual thread has no state line of its own in JDK 25's dump.
        if (b.state != null) {
            threads.add(b.build());
        }
        if (b.mountedId != null) {
            mounted.add(new MountedVirtualThread(b.mountedId, b.name, b.mountedFrames));
        }
    }

    private static final class Builder {
        final String name;
        final boolean daemon;
        Thread.State state;
        final List<String> frames = new ArrayList<>();
        final List<LockId> held = new ArrayList<>();
        LockId waitingFor;
        int waitingIndex;
        boolean acquiring;
        String mountedId;
        final List<String> mountedFrames = new ArrayList<>();

        Builder(String name, boolean daemon) {
            this.name = name;
            this.daemon = daemon;
        }

        ThreadSample build() {
            // Object.wait's monitor counts as "waiting for" only while re-acquiring it (BLOCKED).
            boolean waits = waitingFor != null && (acquiring || state == Thread.State.BLOCKED);
            // Where it waits, in the reader's code: the first frame outside the JDK from the wait on
            // (ReentrantLock.lock's caller, not Unsafe.park).
            String waitingLine = "";
            if (waits && waitingIndex >= 0) {
                waitingLine = frames.get(waitingIndex);
                for (String f : frames.subList(waitingIndex, frames.size())) {
                    if (!ThreadSample.isJdkFrame(f)) {
                        waitingLine = f;
                        break;
                    }
                }
            }
            return new ThreadSample(name, daemon, state, frames,
                    waits ? Optional.of(waitingFor) : Optional.empty(),
                    waits ? Optional.of(waitingLine) : Optional.empty(), held);
        }
    }
}
