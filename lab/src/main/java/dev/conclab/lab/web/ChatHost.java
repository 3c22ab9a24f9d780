package dev.conclab.lab.web;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The one chat server the web lab may run inside its own JVM: started on {@code 127.0.0.1}, on a port the system
 * picks (never another host, never a port a client chose), with the chat's own defaults otherwise
 * ({@link ChatConfig#defaults()}, started by {@link ChatModel#start} as {@code ./conclab chat serve} does).
 *
 * <p><b>At most one.</b> {@link #start} refuses while a server runs (or is being started), naming it. A server with
 * no connection for the idle limit stops itself; {@link #close()} stops the running one and refuses new ones.
 *
 * <p><b>Thread safety.</b> Safe for concurrent use. Starts and stops are serialised by one lock and block the caller
 * while the server starts or drains ({@link #DRAIN} at most); {@link #current()} never blocks. Each running server
 * has one virtual watchdog thread that wakes every {@code idleLimit / 10} (at most every 30 s) to look at its
 * connection count ({@link #checkIdle()}): a server is idle from the last wake-up that saw a connection, or from its
 * start, on the host's clock (injectable for tests); stopping the server ends and joins it, so when {@link #stop} or
 * {@link #close()} returns no thread of the server or of this class is left.
 */
final class ChatHost implements AutoCloseable {

    /** How long a chat server may stand with no connection before it stops itself. */
    static final Duration DEFAULT_IDLE_LIMIT = Duration.ofMinutes(30);
    /** How long a stop waits for the clients to take their 1001 close before cutting them off. */
    static final Duration DRAIN = Duration.ofSeconds(2);

    /**
     * A chat server this host runs. Immutable (the server itself is thread-safe).
     *
     * @param port the port it listens (or listened) on, kept because a stopped server may no longer tell it
     */
    record Running(ChatModel model, ChatServer server, int port, Instant startedAt) {
        /** The page of the chat's browser client, e.g. {@code http://127.0.0.1:43123/}. */
        String url() {
            return "http://127.0.0.1:" + port + "/";
        }

        /** One line naming it, for errors. */
        String describe() {
            return model.id() + " on " + url() + " since " + startedAt;
        }
    }

    /** What {@link #start} did. */
    sealed interface Outcome {
        record Started(Running running) implements Outcome {
        }

        record AlreadyRunning(Running running) implements Outcome {
        }

        record Closed() implements Outcome {
        }
    }

    private final Duration idleLimit;
    private final LongSupplier nanoTime;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Running current;           // written under lock
    private volatile String lastStop;           // why the last one stopped, written under lock
    private Watchdog watchdog;                  // guarded by lock
    private boolean closed;                     // guarded by lock

    /** @param idleLimit a server with no connection for this long stops itself (at least 1 ms) */
    ChatHost(Duration idleLimit) {
        this(idleLimit, System::nanoTime);
    }

    /**
     * @param idleLimit a server with no connection for this long stops itself (at least 1 ms)
     * @param nanoTime  the clock the idle time is measured on, {@link System#nanoTime()} but in tests
     */
    ChatHost(Duration idleLimit, LongSupplier nanoTime) {
        if (idleLimit.toMillis() < 1) {
            throw new IllegalArgumentException("idleLimit must be at least 1 ms, got " + idleLimit);
        }
        this.idleLimit = idleLimit;
        this.nanoTime = nanoTime;
    }

    /** The running server, if any. Never blocks. */
    Optional<Running> current() {
        return Optional.ofNullable(current);
    }

    /** Why the last server stopped (by a request, idle, the lab closing), or null when none has. */
    String lastStop() {
        return lastStop;
    }

    /**
     * Starts a server of {@code model} on 127.0.0.1, port 0, unless one runs or the host is closed.
     *
     * @throws IllegalStateException (the chat's one line) when the server cannot start
     */
    Outcome start(ChatModel model) {
        lock.lock();
        try {
            if (closed) {
                return new Outcome.Closed();
            }
            if (current != null) {
                return new Outcome.AlreadyRunning(current);
            }
            ChatServer server = model.start(ChatConfig.defaults().withHost(loopback()).withPort(0)
                    .withDrainTimeout(DRAIN));
            Running running = new Running(model, server, server.port(), Instant.now());
            current = running;
            watchdog = new Watchdog(running);
            return new Outcome.Started(running);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the running server (drains its clients for up to {@link #DRAIN}) and waits for its threads.
     *
     * @param reason why, as {@link #lastStop()} will tell after "stopped", e.g. {@code from the web lab}
     * @return the server stopped, or empty when none was running
     */
    Optional<Running> stop(String reason) {
        return stop(null, reason);
    }

    /** Stops {@code only} (any when null) if it is the running one. */
    private Optional<Running> stop(Running only, String reason) {
        Watchdog dog;
        Running stopped;
        lock.lock();
        try {
            stopped = current;
            if (stopped == null || (only != null && only != stopped)) {
                return Optional.empty();
            }
            dog = watchdog;
            dog.stop.countDown();
            stopped.server().close(DRAIN);
            current = null;
            watchdog = null;
            lastStop = stopped.model().id() + " on " + stopped.url() + " stopped " + reason;
        } finally {
            lock.unlock();
        }
        if (Thread.currentThread() != dog.thread) {
            try {
                dog.thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return Optional.of(stopped);
    }

    /** Refuses new servers and stops the running one. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
        stop("as the web lab closed");
    }

    private static InetAddress loopback() {
        try {
            return InetAddress.getByAddress("127.0.0.1", new byte[]{127, 0, 0, 1});
        } catch (UnknownHostException e) {
            throw new AssertionError("a 4-byte address is always valid", e);
        }
    }

    /**
     * Looks at the running server once, as its watchdog does on each wake-up: a connection marks it busy now (on
     * the host's clock); with none, it is stopped when it was last busy (or started) at least the idle limit ago.
     * Tests call this to drive the watchdog deterministically.
     *
     * @return whether this check stopped the server
     */
    boolean checkIdle() {
        Watchdog dog;
        lock.lock();
        try {
            dog = watchdog;
        } finally {
            lock.unlock();
        }
        return dog != null && dog.check();
    }

    /** Stops its server once it has had no connection for the idle limit. */
    private final class Watchdog {
        final Running running;
        final CountDownLatch stop = new CountDownLatch(1);
        final Thread thread;
        private long lastBusy; // guarded by lock

        Watchdog(Running running) {
            this.running = running;
            this.lastBusy = nanoTime.getAsLong();
            thread = Thread.ofVirtual().name("chat-idle-watchdog").start(this::watch);
        }

        private void watch() {
            long every = Math.max(1, Math.min(idleLimit.toMillis() / 10, 30_000));
            try {
                while (!stop.await(every, TimeUnit.MILLISECONDS)) {
                    if (check()) {
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** One check of {@link #checkIdle()}; the stop runs outside the lock, as it joins this watchdog's thread. */
        boolean check() {
            lock.lock();
            try {
                if (current != running) {
                    return false; // stopped meanwhile
                }
                long now = nanoTime.getAsLong();
                if (running.server().stats().connections() > 0) {
                    lastBusy = now;
                    return false;
                }
                if (now - lastBusy < idleLimit.toNanos()) {
                    return false;
                }
            } finally {
                lock.unlock();
            }
            return stop(running, "after " + words(idleLimit) + " with no connection").isPresent();
        }
    }

    /** {@code 30 minutes}, {@code 200 ms}. */
    static String words(Duration d) {
        if (d.toSeconds() >= 60 && d.toSecondsPart() == 0) {
            long m = d.toMinutes();
            return m + (m == 1 ? " minute" : " minutes");
        }
        if (d.toMillisPart() == 0) {
            return d.toSeconds() + " s";
        }
        return d.toMillis() + " ms";
    }
}
