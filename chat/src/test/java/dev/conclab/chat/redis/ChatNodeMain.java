package dev.conclab.chat.redis;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatModel;
import dev.conclab.chat.ChatServer;
import dev.conclab.toolkit.process.ParentWatch;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;

/**
 * One chat node in its own JVM, for the two-node tests: {@code ChatNodeMain MODEL REDIS_HOST:PORT|none} serves on a
 * free loopback port, prints {@code PORT n}, and closes gracefully when its standard input ends (or its parent dies).
 */
public final class ChatNodeMain {

    private ChatNodeMain() {
    }

    public static void main(String[] args) throws Exception {
        ParentWatch.exitWithParent();
        ChatConfig config = ChatConfig.defaults().withPort(0).withIoThreads(1)
                .withRedis(args[1].equals("none") ? null : ChatConfig.RedisAddress.parse(args[1]));
        ChatServer server = ChatModel.parse(args[0]).start(config);
        System.out.println("PORT " + server.port());
        System.out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in))) {
            while (in.readLine() != null) {
                // until EOF
            }
        }
        server.close(Duration.ofSeconds(2));
        System.exit(0);
    }
}
