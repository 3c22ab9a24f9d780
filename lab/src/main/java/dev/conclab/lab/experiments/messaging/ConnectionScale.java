package dev.conclab.lab.experiments.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.chat.ChatModel;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.Param;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Table;
import dev.conclab.lab.engine.Verdict;
import dev.conclab.lab.probe.ProbeException;
import dev.conclab.lab.probe.ProbeOutcome;
import dev.conclab.lab.probe.PythonProbes;
import dev.conclab.toolkit.process.JvmLauncher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an idle connection costs each model of the chat server, in OS threads and memory, measured from outside.
 *
 * <ul>
 *   <li><b>BASELINE — the event loop</b> ({@code eventloop}, Netty on epoll): two I/O threads multiplex every
 *       connection; a connection is a channel object and its pipeline.</li>
 *   <li><b>Virtual threads</b> ({@code vthreads}, Helidon SE): a virtual thread per connection reads it with
 *       blocking code (two more park beside it); they run on a few carrier OS threads, as many as the cores.</li>
 *   <li><b>Platform threads</b> ({@code platform}, experiment-only: Netty's deprecated OIO transport): an OS thread
 *       per connection, blocking in {@code read()} with a short {@code SO_TIMEOUT} so that it can write between
 *       reads. The "classic" thread-per-connection server.</li>
 *   <li><b>CPython</b> ({@code conn_scale.py}): an asyncio server (one thread, a coroutine per connection), the
 *       same on uvloop, and a {@code threading.Thread} per connection blocking in {@code recv()}.</li>
 * </ul>
 * Each model's server runs alone in a child JVM ({@link ConnectionScaleServer}); this JVM opens {@code connections}
 * WebSocket clients (one JDK {@code HttpClient}) and holds them idle. OS threads and resident memory come from the
 * child's {@code /proc/PID/status} ({@code Threads}, {@code VmRSS}); the heap in use after two full collections
 * comes from the child; each is read before the first connection and while all are held, and the difference is
 * divided by the connections. CPython's servers are measured the same way on raw TCP connections.
 *
 * <p>Expect the platform model to add one OS thread per connection and the two others none; the platform model's
 * memory per connection to be a multiple of the event loop's; CPython's thread per connection to cost more memory
 * than asyncio's coroutine, and asyncio to stay on one thread. Run: {@code ./conclab run ten-k-connections}
 * ({@code --quick}: a few hundred connections; full: thousands).
 */
public final class ConnectionScale implements Experiment {

    static final ClaimSpec PLATFORM_THREAD_EACH = new ClaimSpec("platform-thread-each",
            "A platform thread per connection holds one OS thread per idle connection (at least 0.9 per connection).");
    static final ClaimSpec FLAT_THREADS = new ClaimSpec("flat-threads",
            "The event loop's and the virtual-thread model's OS thread counts stay flat as connections grow (at most"
                    + " one new OS thread per 20 connections).");
    static final ClaimSpec PLATFORM_MEMORY = new ClaimSpec("platform-memory",
            "An idle connection costs the platform-thread model at least 2× the resident memory of the event loop.");
    static final ClaimSpec PY_ASYNCIO_ONE_THREAD = new ClaimSpec("py-asyncio-one-thread",
            "CPython's asyncio holds every idle connection on one thread; a threading.Thread per connection adds an"
                    + " OS thread and at least 2× asyncio's memory per connection.");

    private static final Pattern THREADS = Pattern.compile("(?m)^Threads:\\s+(\\d+)");
    private static final Pattern VM_RSS = Pattern.compile("(?m)^VmRSS:\\s+(\\d+) kB");
    private static final List<ChatModel> MODELS = List.of(ChatModel.EVENTLOOP, ChatModel.VTHREADS,
            ChatModel.PLATFORM);

    /** One model's figures. */
    record Cost(int held, long threadsBefore, long threadsHeld, double heapPerConnection, double rssPerConnection) {
        double threadsPerConnection() {
            return (threadsHeld - threadsBefore) / (double) held;
        }
    }

    @Override
    public String id() {
        return "ten-k-connections";
    }

    @Override
    public String title() {
        return "What an idle connection costs: event loop, virtual thread, platform thread (and CPython's asyncio"
                + " vs a thread per connection)";
    }

    @Override
    public String description() {
        return "Holds the same number of idle WebSocket connections on each chat model in its own JVM (and raw TCP"
                + " connections on CPython servers) and reads OS threads, heap and RSS per connection from outside.";
    }

    @Override
    public List<Param> params() {
        return List.of(new Param.IntParam("connections", "idle connections held per model", 50, 5_000, 2_000, 300));
    }

    @Override
    public List<ClaimSpec> claims() {
        return List.of(PLATFORM_THREAD_EACH, FLAT_THREADS, PLATFORM_MEMORY, PY_ASYNCIO_ONE_THREAD);
    }

    @Override
    public void run(RunContext ctx) throws Exception {
        int n = ctx.intParam("connections");
        // CPython's servers are other processes: measure them while the JVM side runs
        CompletableFuture<ProbeOutcome> python = new CompletableFuture<>();
        Thread probe = Thread.ofVirtual().name("conn-scale-probe").start(() -> {
            try {
                python.complete(PythonProbes.of(ctx).run("conn_scale.py", List.of(), Duration.ofSeconds(120),
                        "--connections", Integer.toString(n)));
            } catch (Throwable t) {
                python.completeExceptionally(t);
            }
        });
        // each model's server is a JVM of its own, measured from outside: the three run side by side
        ctx.progress(0.1, "eventloop, vthreads, platform: " + n + " idle connections each");
        Map<ChatModel, CompletableFuture<Cost>> pending = new EnumMap<>(ChatModel.class);
        List<Thread> workers = new ArrayList<>();
        for (ChatModel model : MODELS) {
            CompletableFuture<Cost> cost = new CompletableFuture<>();
            pending.put(model, cost);
            workers.add(Thread.ofVirtual().name("conn-scale-" + model.id()).start(() -> {
                try {
                    cost.complete(measure(ctx, model, n));
                } catch (Throwable t) {
                    cost.completeExceptionally(t);
                }
            }));
        }
        Map<ChatModel, Cost> costs = new EnumMap<>(ChatModel.class);
        try {
            for (ChatModel model : MODELS) {
                costs.put(model, join(pending.get(model)));
            }
        } finally {
            for (Thread w : workers) {
                w.join();
            }
            probe.join();
        }

        Table.Builder table = Table.builder("Idle connections held: OS threads and memory per connection, read from"
                        + " outside (" + n + " connections per server)", "server", "runtime", "connections",
                "OS threads before", "OS threads held", "OS threads / connection", "heap B / connection",
                "RSS B / connection");
        for (ChatModel m : MODELS) {
            Cost c = costs.get(m);
            table.row(label(m), "JVM", c.held(), c.threadsBefore(), c.threadsHeld(), c.threadsPerConnection(),
                    Math.round(c.heapPerConnection()), Math.round(c.rssPerConnection()));
        }
        Cost loop = costs.get(ChatModel.EVENTLOOP);
        Cost virtual = costs.get(ChatModel.VTHREADS);
        Cost platform = costs.get(ChatModel.PLATFORM);
        ctx.claim(PLATFORM_THREAD_EACH, Verdict.check(platform.threadsPerConnection() >= 0.9, String.format(
                "platform: %d → %d OS threads for %d connections = %.2f per connection (needs ≥ 0.9)",
                platform.threadsBefore(), platform.threadsHeld(), platform.held(), platform.threadsPerConnection())));
        double worstFlat = Math.max(loop.threadsPerConnection(), virtual.threadsPerConnection());
        ctx.claim(FLAT_THREADS, Verdict.check(worstFlat <= 0.05, String.format(
                "eventloop %d → %d, vthreads %d → %d OS threads for %d connections: at most %.3f per connection"
                        + " (needs ≤ 0.05)", loop.threadsBefore(), loop.threadsHeld(), virtual.threadsBefore(),
                virtual.threadsHeld(), n, worstFlat)));
        ctx.claim(PLATFORM_MEMORY, Verdict.atLeast(String.format("RSS per connection, platform %.0f B ÷ eventloop"
                        + " %.0f B", platform.rssPerConnection(), loop.rssPerConnection()),
                platform.rssPerConnection() / Math.max(1, loop.rssPerConnection()), 2));

        switch (join(python)) {
            case ProbeOutcome.Unavailable missing -> missing.skip(ctx, PY_ASYNCIO_ONE_THREAD);
            case ProbeOutcome.Ran ran -> {
                JsonNode variants = ran.json().path("variants");
                for (var e : (Iterable<Map.Entry<String, JsonNode>>) variants::fields) {
                    JsonNode v = e.getValue();
                    String name = switch (e.getKey()) {
                        case "asyncio" -> "asyncio (a coroutine per connection)";
                        case "uvloop" -> "asyncio on uvloop";
                        case "threads" -> "threading.Thread per connection";
                        default -> e.getKey();
                    };
                    table.row(name, "CPython", v.path("accepted").asInt(), v.path("threads_before").asLong(),
                            v.path("threads_held").asLong(), v.path("threads_per_connection").asDouble(), "-",
                            Math.round(v.path("rss_per_connection").asDouble()));
                }
                JsonNode asyncio = variants.path("asyncio");
                JsonNode threads = variants.path("threads");
                long asyncThreads = asyncio.path("threads_held").asLong() - asyncio.path("threads_before").asLong();
                double perThread = threads.path("threads_per_connection").asDouble();
                double memRatio = threads.path("rss_per_connection").asDouble()
                        / Math.max(1, asyncio.path("rss_per_connection").asDouble());
                ctx.claim(PY_ASYNCIO_ONE_THREAD, Verdict.check(asyncThreads == 0 && asyncio.path("threads_held")
                        .asLong() == 1 && perThread >= 0.9 && memRatio >= 2, String.format(
                        "asyncio: %d thread(s) holding %d connections (needs 1, none added); threads: %.2f OS"
                                + " threads per connection (needs ≥ 0.9), RSS %.0f B vs asyncio %.0f B per"
                                + " connection = %.2f× (needs ≥ 2×)", asyncio.path("threads_held").asLong(),
                        asyncio.path("accepted").asInt(), perThread, threads.path("rss_per_connection").asDouble(),
                        asyncio.path("rss_per_connection").asDouble(), memRatio)));
                ctx.usedPython(ran.json().path("python").asText());
            }
        }
        ctx.table(table.build());
        ctx.note("Memory is the server process's growth while it holds the connections (RSS also counts heap the JVM"
                + " grew and garbage not yet collected); kernel socket buffers and thread kernel stacks are not in"
                + " RSS. The platform model's RSS includes the garbage of its polling: each idle connection's thread"
                + " wakes every " + dev.conclab.chat.platform.PlatformChatServer.DEFAULT_SO_TIMEOUT_MILLIS
                + " ms (SO_TIMEOUT) to run pending writes.");
    }

    private static <T> T join(CompletableFuture<T> f) throws Exception {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    private static String label(ChatModel m) {
        return switch (m) {
            case EVENTLOOP -> "eventloop: Netty epoll (baseline)";
            case VTHREADS -> "vthreads: Helidon, virtual thread per connection";
            case PLATFORM -> "platform: Netty OIO, OS thread per connection";
        };
    }

    /** Serves {@code model} in a child JVM, holds {@code n} idle clients on it, returns the child's growth. */
    private static Cost measure(RunContext ctx, ChatModel model, int n) throws Exception {
        JvmLauncher launcher = JvmLauncher.ofCurrentJvm().withOptions("-Xmx512m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "--sun-misc-unsafe-memory-access=allow",
                "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/java.util=ALL-UNNAMED");
        Process child = ctx.children().track(launcher.start(ConnectionScaleServer.class, model.id()));
        try (Writer commands = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8)) {
            BufferedReader answers = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            String first = answers.readLine();
            if (first == null || !first.startsWith("port ")) {
                throw new ProbeException("the " + model.id() + " server child did not start: " + first);
            }
            URI uri = URI.create("ws://127.0.0.1:" + first.substring(5).trim() + "/chat");
            long[] before = stats(commands, answers, child.pid());
            List<WebSocket> sockets = new ArrayList<>(n);
            HttpClient client = HttpClient.newHttpClient();
            try {
                connect(client, uri, n, sockets);
                long[] held = stats(commands, answers, child.pid());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (held[0] < n && System.nanoTime() < deadline) { // the server registers them just after 101
                    Thread.sleep(20);
                    held = stats(commands, answers, child.pid());
                }
                if (held[0] < n) {
                    throw new ProbeException(model.id() + ": the server holds " + held[0] + " of " + n
                            + " connections");
                }
                return new Cost(n, before[2], held[2], (held[1] - before[1]) / (double) n,
                        (held[3] - before[3]) / (double) n);
            } finally {
                for (WebSocket ws : sockets) {
                    ws.abort();
                }
                client.shutdownNow();
                client.awaitTermination(Duration.ofSeconds(5));
            }
        } finally {
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                child.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /** Opens {@code n} WebSocket clients, 200 handshakes in flight at most. */
    private static void connect(HttpClient client, URI uri, int n, List<WebSocket> sockets) throws Exception {
        WebSocket.Listener idle = new WebSocket.Listener() { };
        for (int start = 0; start < n; start += 200) {
            List<CompletableFuture<WebSocket>> batch = new ArrayList<>();
            for (int i = start; i < Math.min(n, start + 200); i++) {
                batch.add(client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(20))
                        .buildAsync(URI.create(uri + "?name=idle" + i), idle));
            }
            for (int i = 0; i < batch.size(); i++) {
                try {
                    sockets.add(batch.get(i).get(30, TimeUnit.SECONDS));
                } catch (java.util.concurrent.ExecutionException e) {
                    throw refused(uri, start + i, sockets.size(), e);
                }
            }
        }
    }

    /** Names the connection a handshake failed on and, when the server answered, its status and body. */
    private static ProbeException refused(URI uri, int index, int open, java.util.concurrent.ExecutionException e) {
        String answer = e.getCause() instanceof java.net.http.WebSocketHandshakeException h
                ? "HTTP " + h.getResponse().statusCode() + " " + h.getResponse().body()
                : String.valueOf(e.getCause());
        return new ProbeException("WebSocket handshake " + index + " to " + uri + " failed with " + open
                + " open: " + answer, e.getCause());
    }

    /** {connections, heap, OS threads, RSS} of the child now. */
    private static long[] stats(Writer commands, BufferedReader answers, long pid) throws IOException {
        commands.write("stats\n");
        commands.flush();
        String line = answers.readLine();
        if (line == null) {
            throw new ProbeException("the server child (pid " + pid + ") ended");
        }
        String[] p = line.split(" "); // connections C heap H
        String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
        return new long[]{Long.parseLong(p[1]), Long.parseLong(p[3]), find(THREADS, status),
                find(VM_RSS, status) * 1024};
    }

    private static long find(Pattern p, String text) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            throw new ProbeException("no " + p.pattern() + " in /proc status");
        }
        return Long.parseLong(m.group(1));
    }
}
