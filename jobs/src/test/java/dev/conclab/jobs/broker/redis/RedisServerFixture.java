package dev.conclab.jobs.broker.redis;

import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private {@code redis-server} for the jobs tests: a free loopback port and a temporary directory of its own. A
 * durable server runs with {@code appendonly yes} and {@code appendfsync always}, so {@link #kill} (SIGKILL) loses
 * nothing that was acknowledged and {@link #start} brings the same data back on the same port. {@link #close} stops
 * the process (SHUTDOWN NOSAVE, then SIGKILL if it lingers) and deletes the directory. Without {@code redis-server}
 * installed the tests that use it fail with a message naming the package. Not thread-safe: one test
 * class drives it.
 */
final class RedisServerFixture implements AutoCloseable {

    private final Path executable;
    private final int port;
    private final Path dir;
    private final String appendfsync;
    private Process process;

    private RedisServerFixture(Path executable, int port, Path dir, String appendfsync) {
        this.executable = executable;
        this.port = port;
        this.dir = dir;
        this.appendfsync = appendfsync;
    }

    /** A server without persistence (fast; for tests that never restart it), answering PING when this returns. */
    static RedisServerFixture startVolatile() throws Exception {
        return launch(null);
    }

    /** A server that fsyncs every write to its append-only file, so it survives {@link #kill}. */
    static RedisServerFixture startDurable() throws Exception {
        return launch("always");
    }

    /** A server with an append-only file fsynced as given ({@code always}, {@code everysec}, {@code no}), or none. */
    static RedisServerFixture startWithAppendFsync(String appendfsync) throws Exception {
        return launch(appendfsync);
    }

    private static RedisServerFixture launch(String appendfsync) throws Exception {
        RedisServerFixture f = new RedisServerFixture(find(), freePort(), Files.createTempDirectory("jobs-redis-"),
                appendfsync);
        f.start();
        return f;
    }

    int port() {
        return port;
    }

    /** The broker URL of this server with the given key prefix. */
    RedisBrokerConfig config(String prefix) {
        return RedisBrokerConfig.of("127.0.0.1", port).withPrefix(prefix);
    }

    /** A new connection for the test's own checks (the caller closes it). */
    Jedis client() {
        return new Jedis("127.0.0.1", port);
    }

    boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Kills the server as a crash would (SIGKILL): no shutdown, no final save. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("redis-server on port " + port + " survived SIGKILL for 10 s");
            }
            process = null;
        }
    }

    /** Starts the server on its port and directory (again, after {@link #kill}); returns once it answers PING. */
    void start() throws Exception {
        if (isRunning()) {
            throw new IllegalStateException("redis-server on port " + port + " is already running");
        }
        List<String> command = new ArrayList<>(List.of(executable.toString(), "--port", String.valueOf(port),
                "--bind", "127.0.0.1", "--dir", dir.toString(), "--save", "", "--daemonize", "no",
                "--protected-mode", "yes"));
        if (appendfsync != null) {
            command.addAll(List.of("--appendonly", "yes", "--appendfsync", appendfsync));
        } else {
            command.addAll(List.of("--appendonly", "no"));
        }
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        JedisException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited at once (status " + process.exitValue()
                        + ") on port " + port + "; see " + dir.resolve("redis.log"));
            }
            try (Jedis j = client()) {
                if ("PONG".equals(j.ping())) {
                    return;
                }
            } catch (JedisException e) {
                last = e; // not listening yet, or LOADING its append-only file
            }
            Thread.sleep(20); // polling a starting process: there is nothing to wait on but its port
        }
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        process = null;
        throw new IllegalStateException("redis-server on port " + port + " did not answer PING within 20 s", last);
    }

    /** Kills the server and starts it again on the same port and directory. */
    void restart() throws Exception {
        kill();
        start();
    }

    @Override
    public void close() throws Exception {
        if (process != null) {
            try (Jedis j = client()) {
                j.shutdown();
            } catch (JedisException e) {
                // it drops the connection as it goes, or it was gone already
            }
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            process = null;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static Path find() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin:/usr/sbin:/usr/local/bin";
        for (String d : path.split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "redis-server"))) {
                return Path.of(d, "redis-server");
            }
        }
        // Failing, not skipping: "both brokers pass the same suite" must not turn silently into one broker.
        throw new AssertionError("redis-server is not installed, and the Redis broker tests need a real one "
                + "(Debian package redis-server: apt-get install -y redis-server; .ci/run installs it)");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
