package dev.conclab.lab.gil;

/**
 * How the model GIL behaves: its switch interval, whether it forces switches, and the order in which a woken
 * waiter and the releasing thread are scheduled. Immutable.
 *
 * @param intervalMicros the switch interval in µs: how long a waiter waits before it sets the drop request
 *                       (CPython: {@code sys.setswitchinterval}, 5,000 µs by default)
 * @param forceSwitching whether a thread that drops the lock on request waits until another thread has taken it
 *                       ({@code FORCE_SWITCHING} in CPython, always on); off gives the behaviour of the GIL before
 *                       3.2, where the releasing thread could take the lock straight back
 * @param wakeups        the order in which a woken waiter runs, see {@link Wakeups}
 */
public record GilConfig(long intervalMicros, boolean forceSwitching, Wakeups wakeups) {

    /** CPython's default switch interval, in µs. */
    public static final long CPYTHON_INTERVAL_MICROS = 5_000;

    /** The longest interval the model accepts, in µs (one minute). */
    public static final long MAX_INTERVAL_MICROS = 60_000_000;

    /** Who runs first after a thread drops the lock on request. */
    public enum Wakeups {
        /** As the operating system schedules the threads: the woken waiter and the releaser race. */
        AS_SCHEDULED,
        /**
         * The woken waiter runs only after the releasing thread has moved on: taken the lock again, or begun to
         * wait for the switch. This is the common order on a busy multi-core machine (the releaser is running; the
         * waiter must first be woken and scheduled), forced here with a condition so that it happens every time.
         */
        LATE
    }

    public GilConfig {
        if (intervalMicros < 1 || intervalMicros > MAX_INTERVAL_MICROS) {
            throw new IllegalArgumentException("switch interval must be 1.." + MAX_INTERVAL_MICROS + " µs, got "
                    + intervalMicros);
        }
        if (wakeups == null) {
            throw new NullPointerException("wakeups");
        }
    }

    /** CPython's GIL: a 5 ms interval, forced switching, threads scheduled by the operating system. */
    public static GilConfig cpython() {
        return new GilConfig(CPYTHON_INTERVAL_MICROS, true, Wakeups.AS_SCHEDULED);
    }

    public GilConfig withInterval(long micros) {
        return new GilConfig(micros, forceSwitching, wakeups);
    }

    /** The same GIL without forced switching: <b>broken</b>, like the GIL before Python 3.2. */
    public GilConfig withoutForcedSwitching() {
        return new GilConfig(intervalMicros, false, wakeups);
    }

    public GilConfig withWakeups(Wakeups order) {
        return new GilConfig(intervalMicros, forceSwitching, order);
    }

    long intervalNanos() {
        return intervalMicros * 1_000;
    }
}
