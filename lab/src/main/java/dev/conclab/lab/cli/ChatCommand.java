package dev.conclab.lab.cli;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.load.LoadConfig;
import dev.conclab.chat.load.LoadGenerator;
import dev.conclab.chat.load.LoadReport;
import dev.conclab.chat.netty.NettyChatServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * {@code conclab chat serve [--model M] [--port P] [--host H]}: the chat server of {@code chat/PROTOCOL.md}, standing
 * until Ctrl-C, which shuts it down gracefully (stop accepting, 1001 to every client, drain within the deadline).
 */
@Command(name = "chat", mixinStandardHelpOptions = true, subcommands = {ChatCommand.ServeCommand.class, ChatCommand.LoadCommand.class},
        description = {"The chat server: WebSocket + a small JSON protocol (chat/PROTOCOL.md).",
                "  ./conclab chat serve --model eventloop --port 8080     serve on ws://127.0.0.1:8080/chat",
                "  ./conclab chat load --url ws://127.0.0.1:8080/chat --connections 1000 --rooms 10 --rate 200/s"
                        + " --duration 10"})
final class ChatCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new UsageError("chat needs a subcommand: serve or load (see: conclab chat --help)");
    }

    /** {@code conclab chat serve}. */
    @Command(name = "serve", mixinStandardHelpOptions = true, description = "Serve the chat until Ctrl-C (graceful shutdown).")
    static final class ServeCommand implements java.util.concurrent.Callable<Integer> {

        @Option(names = "--model", defaultValue = "eventloop", paramLabel = "MODEL",
                description = "How connections are served; one of: ${COMPLETION-CANDIDATES} (default eventloop).",
                completionCandidates = Models.class)
        String model;

        @Option(names = "--port", defaultValue = "8080", description = "Port (default 8080, 0 = any free one).")
        int port;

        @Option(names = "--host", defaultValue = "127.0.0.1",
                description = "Address to listen on (default 127.0.0.1, loopback only).")
        String host;

        @Option(names = "--drain", defaultValue = "5", paramLabel = "SECONDS",
                description = "Graceful-shutdown deadline, seconds (default 5).")
        int drainSeconds;

        @Option(names = "--redis", paramLabel = "HOST:PORT",
                description = "Join every server using this Redis into one chat (pub/sub); default: run alone.")
        String redis;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            ChatModel chosen;
            ChatConfig config;
            try {
                chosen = ChatModel.parse(model);
                if (chosen.experimentOnly()) {
                    throw new IllegalArgumentException("model '" + chosen.id() + "' is experiment-only (served: "
                            + ChatModel.served().stream().map(ChatModel::id).toList() + ")");
                }
                if (port < 0 || port > 65_535) {
                    throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
                }
                if (drainSeconds < 0 || drainSeconds > 600) {
                    throw new IllegalArgumentException("--drain must be in 0..600 seconds, got " + drainSeconds);
                }
                config = ChatConfig.defaults().withHost(address(host)).withPort(port)
                        .withDrainTimeout(Duration.ofSeconds(drainSeconds))
                        .withRedis(redis == null ? null : ChatConfig.RedisAddress.parse(redis));
            } catch (IllegalArgumentException e) {
                throw new UsageError("chat serve: " + e.getMessage());
            }
            ChatServer server;
            try {
                server = chosen.start(config);
            } catch (IllegalStateException e) {
                throw new UsageError("chat serve: " + e.getMessage());
            }
            CountDownLatch stopped = new CountDownLatch(1);
            PrintWriter out = spec.commandLine().getOut();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                boolean drained = server.close(server.config().drainTimeout());
                System.out.println("chat: stopped (" + (drained ? "every connection drained"
                        : "some connections cut off at the deadline") + ")");
                stopped.countDown();
            }, "chat-stop"));
            String transport = server instanceof NettyChatServer netty ? ", transport " + netty.transport() : "";
            out.printf("chat: %s  (model %s%s)  Ctrl-C stops it gracefully%n", server.uri(), chosen.id(), transport);
            out.flush();
            stopped.await();
            return Main.OK;
        }

        static InetAddress address(String host) {
            if (!host.matches("[0-9.]+|[0-9a-fA-F:]+|localhost")) {
                throw new IllegalArgumentException("--host must be an IP address or localhost, got " + host);
            }
            try {
                return InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("--host is not an address: " + host);
            }
        }
    }

    /**
     * {@code conclab chat load}: the load generator ({@link LoadGenerator}) against a running server, in this
     * process; prints a {@link LoadReport} (text, or JSON with {@code --json}).
     */
    @Command(name = "load", mixinStandardHelpOptions = true,
            description = {"Load a running chat server: N WebSocket clients over R rooms, sending at M messages/s "
                    + "for S seconds; reports connections held, deliveries, latency percentiles, closes, errors and "
                    + "(with --server-pid) the server's heap and RSS.",
                    "Run it in its own process: the machine allows 20,000 open files per process."})
    static final class LoadCommand implements java.util.concurrent.Callable<Integer> {

        @Option(names = "--url", required = true, paramLabel = "URL",
                description = "The server, e.g. ws://127.0.0.1:8080/chat.")
        String url;

        @Option(names = "--connections", defaultValue = "100", paramLabel = "N",
                description = "WebSocket connections to hold (1.." + LoadConfig.MAX_CONNECTIONS + ", default 100).")
        int connections;

        @Option(names = "--rooms", defaultValue = "1", paramLabel = "R",
                description = "Rooms to spread them over, round-robin (1..N, default 1).")
        int rooms;

        @Option(names = "--rate", defaultValue = "10/s", paramLabel = "M/s",
                description = "Aggregate send rate, e.g. 500/s; comma-separated steps run in turn "
                        + "(100/s,200/s); 0 holds the connections idle (default 10/s).")
        String rate;

        @Option(names = "--duration", defaultValue = "10", paramLabel = "S",
                description = "Seconds each rate step sends (0.1..3600, default 10).")
        double durationSeconds;

        @Option(names = "--server-pid", paramLabel = "PID",
                description = "The server's process id: read its RSS (/proc/PID/status) and heap (jcmd GC.heap_info "
                        + "after GC.run) before connecting and holding the connections.")
        Long serverPid;

        @Option(names = "--local-address", split = ",", paramLabel = "ADDR",
                description = "Source addresses to spread connections over (e.g. 127.0.0.2,127.0.0.3): each has its "
                        + "own ephemeral ports.")
        java.util.List<String> localAddresses = java.util.List.of();

        @Option(names = "--io-threads", defaultValue = "2", paramLabel = "T",
                description = "The clients' event-loop threads (default 2).")
        int ioThreads;

        @Option(names = "--stop-above-p99", defaultValue = "0", paramLabel = "MS",
                description = "Stop the rate steps after two in a row whose p99 latency exceeds MS (default 0: never).")
        double stopAboveP99;

        @Option(names = "--warmup", defaultValue = "0", paramLabel = "S",
                description = "Seconds of sending at the first non-zero rate before the measured steps, not "
                        + "reported (0..600, default 0).")
        double warmupSeconds;

        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            LoadConfig config;
            try {
                java.net.URI uri;
                try {
                    uri = new java.net.URI(url);
                } catch (java.net.URISyntaxException e) {
                    throw new IllegalArgumentException("--url is not a URL: " + url);
                }
                if (!(durationSeconds >= 0.1 && durationSeconds <= 3600)) {
                    throw new IllegalArgumentException("--duration must be in 0.1..3600 seconds, got "
                            + durationSeconds);
                }
                if (!(warmupSeconds >= 0 && warmupSeconds <= 600)) {
                    throw new IllegalArgumentException("--warmup must be in 0..600 seconds, got " + warmupSeconds);
                }
                java.util.List<InetAddress> sources = new java.util.ArrayList<>();
                for (String a : localAddresses) {
                    try {
                        sources.add(ServeCommand.address(a.trim()));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(e.getMessage().replace("--host", "--local-address"));
                    }
                }
                config = LoadConfig.of(uri, 1, 1, 0, Duration.ofSeconds(1));
                config = new LoadConfig(uri, connections, rooms, LoadConfig.parseRates(rate),
                        Duration.ofNanos((long) (durationSeconds * 1e9)),
                        serverPid == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(serverPid),
                        config.connectConcurrency(), sources, ioThreads, stopAboveP99, config.connectTimeout(),
                        Duration.ofNanos((long) (warmupSeconds * 1e9)));
                if (serverPid != null && ProcessHandle.of(serverPid).isEmpty()) {
                    throw new IllegalArgumentException("--server-pid " + serverPid + ": no such process");
                }
            } catch (IllegalArgumentException e) {
                throw new UsageError("chat load: " + e.getMessage().replace("connections must", "--connections must")
                        .replace("rooms must", "--rooms must").replace("ioThreads must", "--io-threads must")
                        .replace("url must", "--url must").replace("serverPid must", "--server-pid must")
                        .replace("stopAboveP99Millis must", "--stop-above-p99 must"));
            }
            LoadReport report = LoadGenerator.run(config);
            PrintWriter out = spec.commandLine().getOut();
            out.print(json ? report.toJson() + System.lineSeparator() : report.toText());
            out.flush();
            return Main.OK;
        }
    }

    /** The models that exist, for the help text. */
    static final class Models implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ChatModel.served().stream().map(ChatModel::id).iterator();
        }
    }
}
