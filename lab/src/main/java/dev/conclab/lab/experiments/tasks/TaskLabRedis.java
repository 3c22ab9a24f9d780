package dev.conclab.lab.experiments.tasks;

import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A private {@code redis-server} for one experiment run, as the {@code jobs} Redis broker's broker: a free loopback
 * port, no persistence, no config file. {@link #close} sends {@code SHUTDOWN} and kills the process if it lingers.
 *
 * <p><b>Thread safety.</b> {@link #url()} may be called from any thread; start and close from one.
 */
final class TaskLabRedis implements AutoCloseable {

    /** Why the Redis variants are skipped when there is no server to start. */
    static final String MISSING = "redis-server is not installed (apt-get install -y redis-server)";

    private final int port;
    private final Process process;

    private TaskLabRedis(int port, Process process) {
        this.port = port;
        this.process = process;
    }

    /** The {@code redis-server} executable on this machine, if any. */
    static Optional<Path> find() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin:/usr/sbin:/usr/local/bin";
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "redis-server"))) {
                return Optional.of(Path.of(dir, "redis-server"));
            }
        }
        return Optional.empty();
    }

    /** Starts {@code executable} on a free loopback port; returns once it answers PING (within 10 s). */
    static TaskLabRedis start(Path executable) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Process p = new ProcessBuilder(List.of(executable.toString(), "--port", String.valueOf(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        TaskLabRedis redis = new TaskLabRedis(port, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("redis-server exited at once (status " + p.exitValue() + ") on port " + port);
            }
            try (Jedis j = new Jedis("127.0.0.1", port)) {
                if ("PONG".equals(j.ping())) {
                    return redis;
                }
            } catch (JedisException e) {
                Thread.sleep(20); // not listening yet: a starting process gives nothing else to wait on
            }
        }
        redis.close();
        throw new IOException("redis-server on port " + port + " did not answer PING within 10 s");
    }

    /** The {@code jobs} broker URL of this server. */
    String url() {
        return "redis://127.0.0.1:" + port;
    }

    @Override
    public void close() throws InterruptedException {
        try (Jedis j = new Jedis("127.0.0.1", port)) {
            j.shutdown();
        } catch (JedisException e) {
            // it drops the connection as it goes, or it was gone
        }
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
