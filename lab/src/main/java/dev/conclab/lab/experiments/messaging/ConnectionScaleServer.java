package dev.conclab.lab.experiments.messaging;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import dev.conclab.toolkit.process.ParentWatch;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The chat server of {@link ConnectionScale}, alone in a child JVM so that its memory and threads are the server's
 * only: {@code ConnectionScaleServer MODEL} starts the model on a free loopback port and prints {@code port N}; then
 * each line {@code stats} on its stdin is answered with {@code connections C heap H}, where C is the connections the
 * chat holds and H the heap in use after two full collections (bytes); when stdin ends it shuts down and exits 0.
 * Not for use in a JVM that does anything else.
 */
public final class ConnectionScaleServer {

    private ConnectionScaleServer() {
    }

    public static void main(String[] args) throws Exception {
        ParentWatch.exitWithParent();
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING); // Helidon's start banner
        ChatModel model = ChatModel.parse(args[0]);
        // no idle ping while the experiment holds the connections
        ChatServer server = model.start(ChatConfig.defaults().withPort(0).withIdleTimeout(Duration.ofMinutes(10)));
        System.out.println("port " + server.port());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.equals("stats")) {
                System.gc();
                System.gc();
                long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                System.out.println("connections " + server.stats().connections() + " heap " + heap);
                System.out.flush();
            }
        }
        server.close(Duration.ofSeconds(1));
        System.exit(0);
    }
}
