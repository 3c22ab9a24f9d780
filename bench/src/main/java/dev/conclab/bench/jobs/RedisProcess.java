package dev.conclab.bench.jobs;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private {@code redis-server} for the benchmark: a free loopback port, a temporary directory, no RDB snapshots,
 * and either no append-only file or one fsynced as given ({@code everysec}). {@link #close} kills it and deletes
 * the directory. Not thread-safe.
 */
final class RedisProcess implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path dir;

    private RedisProcess(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    /** The redis-server executable on PATH (or /usr/bin), if installed. */
    static Optional<Path> executable() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin:/usr/local/bin";
        for (String d : path.split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "redis-server"))) {
                return Optional.of(Path.of(d, "redis-server"));
            }
        }
        return Optional.empty();
    }

    /** Starts a server; {@code appendfsync} null for no persistence. Returns once it answers PING. */
    static RedisProcess start(Path exe, String appendfsync) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("bench-redis-");
        List<String> command = new ArrayList<>(List.of(exe.toString(), "--port", String.valueOf(port), "--bind",
                "127.0.0.1", "--dir", dir.toString(), "--save", "", "--daemonize", "no"));
        command.addAll(appendfsync == null ? List.of("--appendonly", "no")
                : List.of("--appendonly", "yes", "--appendfsync", appendfsync));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        RedisProcess r = new RedisProcess(p, port, dir);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                r.close();
                throw new IOException("redis-server exited at once; see " + dir.resolve("redis.log"));
            }
            if (r.pings()) {
                return r;
            }
            Thread.sleep(20); // a starting process: nothing to wait on but its port
        }
        r.close();
        throw new IOException("redis-server on port " + port + " did not answer PING within 20 s");
    }

    private boolean pings() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[7];
            int n = in.readNBytes(buf, 0, 7);
            return n == 7 && new String(buf, StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    /** A broker URL on this server with a key prefix of its own. */
    String url(String prefix) {
        return "redis://127.0.0.1:" + port + "/0?prefix=" + prefix;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
