package dev.conclab.chat.redis;

import dev.conclab.chat.ChatConfig.RedisAddress;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private {@code redis-server} for one test: a free loopback port, no persistence, no config file. {@link #close}
 * shuts it down ({@code SHUTDOWN NOSAVE}, then kills it if it lingers), so nothing is left running. Fails with an
 * install hint when {@code redis-server} is not on the machine. Not thread-safe: one test drives it.
 */
final class RedisServerFixture implements AutoCloseable {

    private final Path executable;
    private final int port;
    private Process process;

    private RedisServerFixture(Path executable, int port) {
        this.executable = executable;
        this.port = port;
    }

    /** Starts a server on a free loopback port and returns once it answers PING. */
    static RedisServerFixture start() throws Exception {
        RedisServerFixture f = new RedisServerFixture(find(), freePort());
        f.startProcess();
        return f;
    }

    int port() {
        return port;
    }

    RedisAddress address() {
        return new RedisAddress("127.0.0.1", port);
    }

    /** A new connection for the test's own checks (the caller closes it). */
    Jedis client() {
        return new Jedis("127.0.0.1", port);
    }

    boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Stops the server (Redis "goes away"); {@link #restart} brings it back on the same port, empty. */
    void stop() throws InterruptedException {
        if (process == null) {
            return;
        }
        try (Jedis j = client()) {
            j.shutdown(); // SHUTDOWN (no save is configured, so NOSAVE in effect); the connection then drops
        } catch (JedisException e) {
            // it closes the connection as it goes, or it was gone already
        }
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        process = null;
    }

    void restart() throws Exception {
        stop();
        startProcess();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    private void startProcess() throws Exception {
        process = new ProcessBuilder(List.of(executable.toString(), "--port", String.valueOf(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JedisException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited at once (status " + process.exitValue()
                        + ") on port " + port);
            }
            try (Jedis j = client()) {
                if ("PONG".equals(j.ping())) {
                    return;
                }
            } catch (JedisException e) {
                last = e;
            }
            Thread.sleep(20);
        }
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        throw new IllegalStateException("redis-server on port " + port + " did not answer PING within 10 s", last);
    }

    private static Path find() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin:/usr/sbin:/usr/local/bin";
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, "redis-server");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("redis-server is not installed: the Redis scale-out tests need it "
                + "(apt-get install -y redis-server; .ci/run installs it)");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
