package dev.conclab.bench.chat;

import dev.conclab.chat.ChatModel;
import dev.conclab.chat.load.LoadConfig;
import dev.conclab.chat.load.LoadGenerator;
import dev.conclab.chat.load.LoadReport;
import dev.conclab.chat.load.ServerMemory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a model stops scaling with connections: every model of {@link ChatModel} (the experiment-only
 * platform-thread-per-connection model included) is served by one child JVM ({@link ChatServerChild}, {@code -Xmx1g})
 * while this JVM ramps the connections it holds: 1,000, 2,000, 5,000, 10,000, 19,000 (the most one load process opens
 * under the 20,000-file limit), each step a fresh set of clients in rooms of 100 from its own loopback source address
 * (so closed connections in TIME_WAIT never exhaust the ephemeral ports of the next step). At each step the clients
 * hold the connections idle, then broadcast at {@link #RATE} messages/s for 3 s; a sampler reads the server's
 * {@code Threads} and {@code VmRSS} from {@code /proc/PID/status} every 200 ms (peaks reported).
 *
 * <p>A step <b>fails</b> when a connection could not be opened, a copy was not delivered, the server died (e.g.
 * {@code OutOfMemoryError: unable to create native thread}), or the broadcast's p99 delivery latency is over
 * {@value ChatBench#P99_LIMIT_MILLIS} ms. The ramp of a model stops after a hard failure (the first three); a p99
 * failure is reported and the ramp goes on (the machine is shared: see the load average beside each figure). Not
 * thread-safe; one run at a time.
 */
public final class ConnectionScaleBench {

    /** The broadcast rate of each step, messages per second (each reaches the 100 members of its room). */
    public static final double RATE = 20;
    /** The connection counts of the ramp. */
    public static final List<Integer> STEPS = List.of(1_000, 2_000, 5_000, 10_000, 19_000);

    private static final Pattern THREADS = Pattern.compile("(?m)^Threads:\\s+(\\d+)");
    private static final Pattern VM_RSS = Pattern.compile("(?m)^VmRSS:\\s+(\\d+) kB");

    /**
     * One step of one model.
     *
     * @param failure null when the step passed, else what failed
     */
    public record Point(ChatModel model, int asked, int held, int connectFailures, double connectSeconds,
                        long peakThreads, long peakRssBytes, double heapPerConnection, double rssPerConnection,
                        long expected, long delivered, double p99Millis, double load, String failure) {

        /** A failure after which the ramp stops (not a p99 over the limit). */
        public boolean hard() {
            return failure != null && !failure.startsWith("p99");
        }
    }

    private ConnectionScaleBench() {
    }

    /**
     * Ramps every model in {@code models} through {@code steps}; progress goes to {@code progress}. With
     * {@code keepGoing}, a model's ramp goes on after a hard failure while its server lives (to see how far it holds).
     */
    public static List<Point> run(List<ChatModel> models, List<Integer> steps, Duration step, boolean keepGoing,
                                  PrintStream progress) throws IOException, InterruptedException {
        List<Point> points = new ArrayList<>();
        for (ChatModel model : models) {
            points.addAll(ramp(model, steps, step, keepGoing, progress));
        }
        return points;
    }

    private static List<Point> ramp(ChatModel model, List<Integer> steps, Duration step, boolean keepGoing,
                                    PrintStream progress)
            throws IOException, InterruptedException {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        Path stderr = Files.createTempFile("conclab-scale-" + model.id(), ".err");
        Process server = new ProcessBuilder(javaBin.toString(), "-Xmx1g", "-XX:+UseG1GC",
                "--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ChatServerChild.class.getName(), model.id())
                .redirectError(stderr.toFile())
                .start();
        List<Point> points = new ArrayList<>();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            String first = lines.readLine();
            if (first == null || !first.startsWith("port ")) {
                throw new IllegalStateException("the " + model.id() + " server did not start: " + first);
            }
            int port = Integer.parseInt(first.substring(5).trim());
            for (int i = 0; i < steps.size(); i++) {
                int n = steps.get(i);
                progress.printf("  scale %s: %,d connections ...%n", model.id(), n);
                // a source address of its own per model and step: 127.0.<model+1>.<step+1>
                InetAddress source = InetAddress.getByAddress(new byte[]{127, 0, (byte) (model.ordinal() + 1),
                        (byte) (i + 1)});
                LoadConfig config = new LoadConfig(URI.create("ws://127.0.0.1:" + port + "/chat"), n, n / 100,
                        List.of(0.0, RATE), step, OptionalLong.of(server.pid()), 256, List.of(source), 2, 0,
                        Duration.ofMinutes(4), Duration.ZERO);
                Sampler sampler = new Sampler(server.pid());
                Thread sampling = Thread.ofPlatform().name("scale-sampler").start(sampler);
                LoadReport r;
                try {
                    r = LoadGenerator.run(config);
                } finally {
                    sampling.interrupt();
                    sampling.join();
                }
                Point p = point(model, n, r, sampler, server, stderr);
                points.add(p);
                progress.printf(Locale.ROOT, "    held %,d, threads %,d, RSS %,d MB, p99 %.1f ms: %s%n", p.held(),
                        p.peakThreads(), p.peakRssBytes() >> 20, p.p99Millis(),
                        p.failure() == null ? "ok" : p.failure());
                if (p.hard() && (!keepGoing || !server.isAlive())) {
                    break;
                }
                Thread.sleep(2_000); // let the server close the last step's connections and end their threads
            }
        } finally {
            server.getOutputStream().close();
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
            Files.deleteIfExists(stderr);
        }
        return points;
    }

    private static Point point(ChatModel model, int n, LoadReport r, Sampler sampler, Process server, Path stderr)
            throws IOException {
        LoadReport.Step broadcast = r.steps().size() > 1 ? r.steps().get(1) : null;
        double p99 = broadcast == null ? Double.NaN : broadcast.p99Millis();
        double load = r.steps().isEmpty() ? -1 : r.steps().getLast().loadAverage();
        String failure = null;
        String err = Files.readString(stderr);
        if (!server.isAlive() || err.contains("OutOfMemoryError")) {
            int at = err.indexOf("OutOfMemoryError");
            failure = "server died" + (at < 0 ? "" : ": " + err.substring(at, Math.min(err.length(), at + 80))
                    .lines().findFirst().orElse(""));
        } else if (r.connectionsHeld() < n || r.connectFailures() > 0) {
            failure = "connect failures: " + r.connectFailures() + ", held " + r.connectionsHeld();
        } else if (broadcast == null || !broadcast.complete()) {
            failure = "copies lost: " + (broadcast == null ? "no broadcast step"
                    : "delivered " + broadcast.delivered() + " of " + broadcast.expected());
        } else if (p99 > ChatBench.P99_LIMIT_MILLIS) {
            failure = String.format(Locale.ROOT, "p99 %.0f ms > %.0f ms", p99, ChatBench.P99_LIMIT_MILLIS);
        }
        return new Point(model, n, r.connectionsHeld(), r.connectFailures(), r.connectSeconds(),
                sampler.threads.get(), sampler.rss.get(), r.heapPerConnection(), r.rssPerConnection(),
                broadcast == null ? 0 : broadcast.expected(), broadcast == null ? 0 : broadcast.delivered(), p99,
                load, failure);
    }

    /** Samples a process's thread count and RSS every 200 ms until interrupted, keeping the peaks. */
    private static final class Sampler implements Runnable {
        private final long pid;
        final AtomicLong threads = new AtomicLong();
        final AtomicLong rss = new AtomicLong();

        Sampler(long pid) {
            this.pid = pid;
        }

        @Override
        public void run() {
            Path status = Path.of("/proc", Long.toString(pid), "status");
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    String s = Files.readString(status);
                    Matcher t = THREADS.matcher(s);
                    if (t.find()) {
                        threads.accumulateAndGet(Long.parseLong(t.group(1)), Math::max);
                    }
                    Matcher m = VM_RSS.matcher(s);
                    if (m.find()) {
                        rss.accumulateAndGet(Long.parseLong(m.group(1)) * 1024, Math::max);
                    }
                    Thread.sleep(200);
                } catch (IOException e) {
                    return; // the process is gone
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Prints the points as one table under the machine line. */
    public static void print(List<Point> points, String machine, PrintStream out) {
        out.println();
        out.printf(Locale.ROOT, "Connection scale (ConnectionScaleBench: server in a child JVM -Xmx1g, clients in this "
                + "one; rooms of 100, broadcast %.0f msg/s for each step; load = 1-min load average)%n", RATE);
        out.println("machine: " + machine);
        out.printf("%-10s %7s %7s %8s %9s %9s %10s %10s %9s %6s  %s%n", "model", "asked", "held", "conn s",
                "threads", "RSS MB", "heap B/c", "RSS B/c", "p99 ms", "load", "result");
        for (Point p : points) {
            out.printf(Locale.ROOT, "%-10s %7d %7d %8.1f %9d %9d %10.0f %10.0f %9.1f %6.2f  %s%n", p.model().id(),
                    p.asked(), p.held(), p.connectSeconds(), p.peakThreads(), p.peakRssBytes() >> 20,
                    p.heapPerConnection(), p.rssPerConnection(), p.p99Millis(), p.load(),
                    p.failure() == null ? "ok" : "FAIL: " + p.failure());
        }
    }

    /** {@code ConnectionScaleBench [--model=M,...] [--steps=1000,2000,...] [--step-seconds=S] [--keep-going]}. */
    public static void main(String[] args) throws Exception {
        List<ChatModel> models = List.of(ChatModel.values());
        List<Integer> steps = STEPS;
        Duration step = Duration.ofSeconds(3);
        boolean keepGoing = false;
        for (String a : args) {
            if (a.startsWith("--model=")) {
                models = java.util.Arrays.stream(a.substring(8).split(",")).map(ChatModel::parse).toList();
            } else if (a.startsWith("--steps=")) {
                steps = java.util.Arrays.stream(a.substring(8).split(",")).map(Integer::parseInt).toList();
                for (int n : steps) {
                    if (n < 100 || n > LoadConfig.MAX_CONNECTIONS || n % 100 != 0) {
                        throw new IllegalArgumentException("a step must be a multiple of 100 in 100.."
                                + LoadConfig.MAX_CONNECTIONS + ", got " + n);
                    }
                }
            } else if (a.equals("--keep-going")) {
                keepGoing = true;
            } else if (a.startsWith("--step-seconds=")) {
                step = Duration.ofSeconds(Integer.parseInt(a.substring(15)));
            } else {
                System.err.println("unknown argument: " + a + " (accepted: --model=M[,M...], --steps=N[,N...], "
                        + "--step-seconds=S, --keep-going; models: " + ChatModel.names() + ")");
                System.exit(2);
            }
        }
        print(run(models, steps, step, keepGoing, System.out), dev.conclab.bench.BenchMain.machine(), System.out);
    }
}
