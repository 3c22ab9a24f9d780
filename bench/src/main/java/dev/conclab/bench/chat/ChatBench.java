package dev.conclab.bench.chat;

import dev.conclab.chat.ChatModel;
import dev.conclab.chat.load.LoadConfig;
import dev.conclab.chat.load.LoadGenerator;
import dev.conclab.chat.load.LoadReport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * The chat server's scale targets (issue 8), one model at a time, each served by a child JVM
 * ({@link ChatServerChild}) while this JVM is the load generator ({@link LoadGenerator}): two processes, because the
 * machine allows 20,000 open files per process and 10,000 connections need a socket at each end.
 * <ul>
 *   <li><b>idle</b>: hold {@code connections} WebSocket connections (10,000), in rooms of {@code roomSize} (100);
 *       heap (after a full GC, {@code jcmd GC.heap_info}) and RSS ({@code /proc/PID/status}) per connection: the
 *       server's memory holding them minus its memory before the first connected, over the connections held.
 *       Targets: ≤ 10 KB per idle connection on the event loop, ≤ 20 KB on virtual threads.</li>
 *   <li><b>broadcast</b>: on the same connections, send at increasing aggregate rates (each message reaches the 100
 *       members of its room) and report each step's delivery-latency percentiles; the model's figure is the highest
 *       rate whose p99 stays ≤ 50 ms with every copy delivered. A warm-up step at the lowest rate comes first (not
 *       counted); the steps stop after two in a row over 50 ms.</li>
 * </ul>
 * Every figure is printed with the 1-minute load average: on a shared 2-core machine the load says how much of the
 * cores the run had, and server and clients share them. The models are {@link ChatModel#served()} (or those named),
 * so a new model is measured as soon as it exists. Not thread-safe; one run at a time.
 */
public final class ChatBench {

    /** The p99 delivery latency a broadcast rate must keep, ms. */
    public static final double P99_LIMIT_MILLIS = 50;

    /** The sizes of one run. */
    public record Settings(int connections, int roomSize, List<Double> rates, Duration step, Duration idle) {
        public Settings {
            Objects.requireNonNull(rates, "rates");
            rates = List.copyOf(rates);
            if (connections % roomSize != 0) {
                throw new IllegalArgumentException("connections must be a multiple of roomSize");
            }
        }

        /**
         * The figures: 10,000 connections in rooms of 100, rates from 10/s (1,000 deliveries/s) up, 5 s per
         * step.
         */
        public static Settings full() {
            return new Settings(10_000, 100, List.of(10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0, 2_000.0,
                    5_000.0, 10_000.0), Duration.ofSeconds(5), Duration.ofSeconds(3));
        }

        /** {@code --quick}: 2,000 connections, 2 s per step. */
        public static Settings quick() {
            return new Settings(2_000, 100, List.of(100.0, 500.0, 2_000.0, 5_000.0), Duration.ofSeconds(2),
                    Duration.ofSeconds(1));
        }

        /** A smoke run: small and short. */
        public static Settings tiny() {
            return new Settings(200, 20, List.of(50.0, 100.0), Duration.ofMillis(700), Duration.ofMillis(300));
        }
    }

    /** One model's run: the load generator's report. */
    public record ModelRun(ChatModel model, LoadReport report) {

        /** The highest rate with p99 delivery latency ≤ {@value #P99_LIMIT_MILLIS} ms and every copy delivered. */
        public double bestRate() {
            double best = 0;
            for (LoadReport.Step s : measured()) {
                if (s.complete() && s.p99Millis() <= P99_LIMIT_MILLIS) {
                    best = Math.max(best, s.rate());
                }
            }
            return best;
        }

        /** The measured rate steps: after the idle hold (step 0). */
        public List<LoadReport.Step> measured() {
            return report.steps().size() <= 1 ? List.of() : report.steps().subList(1, report.steps().size());
        }

        /** The idle target per connection for this model, bytes (10 KB event loop, 20 KB otherwise). */
        public double targetBytesPerConnection() {
            return model == ChatModel.EVENTLOOP ? 10_000 : 20_000;
        }
    }

    private ChatBench() {
    }

    /** Runs every model in {@code models} with {@code s}; progress lines go to {@code progress}. */
    public static List<ModelRun> run(Settings s, List<ChatModel> models, PrintStream progress)
            throws IOException, InterruptedException {
        List<ModelRun> runs = new ArrayList<>();
        for (ChatModel model : models) {
            progress.printf("  chat %s: %,d connections, rooms of %d ...%n", model.id(), s.connections(), s.roomSize());
            runs.add(new ModelRun(model, runOne(s, model)));
        }
        return runs;
    }

    private static LoadReport runOne(Settings s, ChatModel model) throws IOException, InterruptedException {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        Process server = new ProcessBuilder(javaBin.toString(), "-Xmx1g", "-XX:+UseG1GC",
                "--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ChatServerChild.class.getName(), model.id())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            String first = lines.readLine();
            if (first == null || !first.startsWith("port ")) {
                throw new IllegalStateException("the " + model.id() + " server did not start: " + first);
            }
            int port = Integer.parseInt(first.substring(5).trim());
            List<Double> rates = new ArrayList<>();
            rates.add(0.0);                                // the idle hold comes first
            rates.addAll(s.rates());
            LoadConfig config = new LoadConfig(URI.create("ws://127.0.0.1:" + port + "/chat"), s.connections(),
                    s.connections() / s.roomSize(), rates, s.step(), OptionalLong.of(server.pid()), 256,
                    List.of(), 2, P99_LIMIT_MILLIS, Duration.ofMinutes(3), s.step()); // warm-up: not counted
            return LoadGenerator.run(config);
        } finally {
            server.getOutputStream().close();              // the child shuts down when its stdin ends
            if (!server.waitFor(20, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
        }
    }

    /** Prints the runs as a table under the machine line. */
    public static void print(List<ModelRun> runs, String machine, PrintStream out) {
        out.println();
        out.println("Chat server under load (ChatBench: server in a child JVM, load generator in this one; "
                + "load = 1-min load average)");
        out.println("machine: " + machine);
        for (ModelRun run : runs) {
            LoadReport r = run.report();
            out.printf(Locale.ROOT, "%s: %,d/%,d connections held (%d connect failures) in %.1f s; %s%n",
                    run.model().id(), r.connectionsHeld(), r.connectionsAsked(), r.connectFailures(),
                    r.connectSeconds(), r.ephemeralPorts());
            double load = r.steps().isEmpty() ? -1 : r.steps().getFirst().loadAverage();
            double target = run.targetBytesPerConnection();
            out.printf(Locale.ROOT, "  idle: heap %,.0f B/connection, RSS %,.0f B/connection (target ≤ %,.0f B: "
                            + "heap %s, RSS %s)  load %.2f%n", r.heapPerConnection(), r.rssPerConnection(), target,
                    met(r.heapPerConnection(), target), met(r.rssPerConnection(), target), load);
            out.printf("  %10s %10s %12s %12s %9s %9s %9s %9s %6s%n", "rate/s", "sent/s", "expected", "delivered",
                    "p50 ms", "p99 ms", "p999 ms", "max ms", "load");
            for (LoadReport.Step s : run.measured()) {
                out.printf(Locale.ROOT, "  %10.0f %10.0f %12d %12d %9.2f %9.2f %9.2f %9.2f %6.2f%n", s.rate(),
                        s.sentPerSecond(), s.expected(), s.delivered(), s.p50Millis(), s.p99Millis(), s.p999Millis(),
                        s.maxMillis(), s.loadAverage());
            }
            out.printf(Locale.ROOT, "  highest rate with p99 ≤ %.0f ms and every copy delivered: %,.0f messages/s "
                            + "(%,.0f deliveries/s)%n", P99_LIMIT_MILLIS, run.bestRate(),
                    run.bestRate() * (r.connectionsAsked() / (double) r.rooms()));
            out.println("  closes by code " + r.closesByCode() + ", slow-consumer closes " + r.slowConsumerCloses()
                    + ", errors " + r.errorsByCode());
        }
        ModelRun base = runs.stream().filter(m -> m.model() == ChatModel.EVENTLOOP).findFirst().orElse(null);
        if (base != null && base.bestRate() > 0) {
            for (ModelRun run : runs) {
                if (run != base) {
                    out.printf(Locale.ROOT, "  %s / eventloop highest rate: %.2f× (target ≥ 0.8×)%n",
                            run.model().id(),
                            run.bestRate() / base.bestRate());
                }
            }
        }
    }

    private static String met(double bytes, double target) {
        return bytes < 0 ? "unknown" : bytes <= target ? "met" : "NOT met";
    }

    /** Runs the suite for BenchMain: every model, the full or quick settings. */
    public static void runAndPrint(boolean quick, String machine, PrintStream out) throws InterruptedException {
        try {
            print(run(quick ? Settings.quick() : Settings.full(), ChatModel.served(), out), machine, out);
        } catch (IOException e) {
            throw new IllegalStateException("the chat suite failed: " + e, e);
        }
    }

    /** {@code ChatBench [--quick] [--model=M,...]}: the suite alone. */
    public static void main(String[] args) throws Exception {
        boolean quick = false;
        List<ChatModel> models = ChatModel.served();
        for (String a : args) {
            if (a.equals("--quick")) {
                quick = true;
            } else if (a.startsWith("--model=")) {
                models = java.util.Arrays.stream(a.substring(8).split(",")).map(ChatModel::parse).toList();
            } else {
                System.err.println("unknown argument: " + a + " (accepted: --quick, --model=M[,M...]; models: "
                        + ChatModel.names() + ")");
                System.exit(2);
            }
        }
        print(run(quick ? Settings.quick() : Settings.full(), models, System.out),
                dev.conclab.bench.BenchMain.machine(), System.out);
    }
}
