package dev.conclab.lab.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How much CPU the rest of the machine used while a run measured: the busy time of all cores minus the time of
 * this process and the children it has reaped, in cores on average.
 *
 * <p>A claim about parallel speed-up needs cores nobody else is using. On a shared machine another build, another
 * tenant (the hypervisor's steal time) or a backup job can take a core away for seconds, and the speed-up then
 * measures the neighbour, not the code. The runner uses this to tell "the claim fails" from "the claim could not
 * be judged here" (see {@link RunContext#requireCores}).
 *
 * <p>Linux only: it reads {@code /proc/stat} and {@code /proc/self/stat}, both counted in clock ticks
 * ({@code USER_HZ}, 100 per second). Elsewhere, and whenever a file cannot be read, the share is unknown.
 * A child process counts as this process's only once it has been waited for, which is how the lab's probes and
 * worker JVMs end before their claims are judged. Instances are immutable and thread-safe.
 */
final class CpuShare {

    private static final double TICKS_PER_SECOND = 100.0;
    private static final Path SYSTEM = Path.of("/proc/stat");
    private static final Path SELF = Path.of("/proc/self/stat");

    private final long startNanos;
    private final long systemBusy;
    private final long selfBusy;

    private CpuShare(long startNanos, long systemBusy, long selfBusy) {
        this.startNanos = startNanos;
        this.systemBusy = systemBusy;
        this.selfBusy = selfBusy;
    }

    /** Starts a window now; empty when the counters cannot be read. */
    static Optional<CpuShare> start() {
        long system = systemBusyTicks();
        long self = selfBusyTicks();
        return system < 0 || self < 0 ? Optional.empty() : Optional.of(new CpuShare(System.nanoTime(), system, self));
    }

    /** Cores' worth of CPU used by other processes since the window started, on average; empty if unknown. */
    Optional<Double> othersCores() {
        long system = systemBusyTicks();
        long self = selfBusyTicks();
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        if (system < 0 || self < 0 || seconds < 0.05) {
            return Optional.empty();
        }
        double others = ((system - systemBusy) - (self - selfBusy)) / TICKS_PER_SECOND / seconds;
        return Optional.of(Math.max(0, others));
    }

    /** user + nice + system + irq + softirq + steal of the "cpu" line (guest time is already in user). */
    private static long systemBusyTicks() {
        try {
            String[] f = Files.readAllLines(SYSTEM).getFirst().trim().split("\\s+");
            return Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                    + Long.parseLong(f[7]) + Long.parseLong(f[8]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** utime + stime + cutime + cstime; the command name in parentheses may hold spaces, so fields count from ')'. */
    static long selfBusyTicks() {
        try {
            String stat = Files.readString(SELF);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // f[0] is field 3 (state); utime..cstime are fields 14..17.
            return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
