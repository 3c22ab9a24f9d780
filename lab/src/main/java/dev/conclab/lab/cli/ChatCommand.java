package dev.conclab.lab.cli;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
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
@Command(name = "chat", mixinStandardHelpOptions = true, subcommands = ChatCommand.ServeCommand.class,
        description = {"The chat server: WebSocket + a small JSON protocol (chat/PROTOCOL.md).",
                "  ./conclab chat serve --model eventloop --port 8080     serve on ws://127.0.0.1:8080/chat"})
final class ChatCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new UsageError("chat needs a subcommand: serve (see: conclab chat --help)");
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

        private static InetAddress address(String host) {
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

    /** The models that exist, for the help text. */
    static final class Models implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.Arrays.stream(ChatModel.values()).map(ChatModel::id).iterator();
        }
    }
}
