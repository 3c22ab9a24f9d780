package dev.conclab.bench.chat;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;

import java.io.IOException;
import java.time.Duration;

/**
 * The chat server of {@link ChatBench}, in a JVM of its own: {@code ChatServerChild MODEL} starts the model on a free
 * loopback port, prints {@code port N}, serves until its standard input ends (the bench closes it), then shuts down
 * (2 s drain) and exits. Not for use in a JVM that does anything else.
 */
public final class ChatServerChild {

    private ChatServerChild() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ChatServerChild MODEL (models: " + ChatModel.names() + ")");
            System.exit(2);
        }
        ChatConfig config = ChatConfig.defaults().withPort(0).withIdleTimeout(Duration.ofMinutes(10));
        ChatServer server = ChatModel.parse(args[0]).start(config);
        System.out.println("port " + server.port());
        System.out.flush();
        while (System.in.read() >= 0) {
            // serve until the bench closes our stdin
        }
        server.close(Duration.ofSeconds(2));
        System.exit(0);
    }
}
