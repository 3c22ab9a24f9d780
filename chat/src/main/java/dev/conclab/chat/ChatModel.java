package dev.conclab.chat;

import dev.conclab.chat.helidon.HelidonChatServer;
import dev.conclab.chat.netty.NettyChatServer;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The serving models, each a {@link ChatServer} behind the same protocol. Only models that exist are listed.
 * Immutable.
 */
public enum ChatModel {
    /** Netty's event loop: a few I/O threads multiplex every connection (native epoll when available, else NIO). */
    EVENTLOOP("eventloop", NettyChatServer::start),
    /**
     * A virtual thread per connection with plain blocking code: Helidon SE's WebServer reads each connection on its
     * own virtual thread; a second virtual thread per connection writes with blocking sends.
     */
    VTHREADS("vthreads", HelidonChatServer::start);

    private final String id;
    private final Function<ChatConfig, ChatServer> starter;

    ChatModel(String id, Function<ChatConfig, ChatServer> starter) {
        this.id = id;
        this.starter = starter;
    }

    /** The name on the command line, e.g. {@code eventloop}. */
    public String id() {
        return id;
    }

    /**
     * Starts a server of this model; returns once it accepts connections.
     *
     * @throws IllegalStateException when the server cannot start (e.g. the port is taken)
     */
    public ChatServer start(ChatConfig config) {
        return starter.apply(config);
    }

    /**
     * The model named {@code id}.
     *
     * @throws IllegalArgumentException naming the models that exist when none is called {@code id}
     */
    public static ChatModel parse(String id) {
        for (ChatModel m : values()) {
            if (m.id.equals(id.toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown model '" + id + "' (models: " + names() + ")");
    }

    /** The ids of every model, comma-separated. */
    public static String names() {
        return Arrays.stream(values()).map(ChatModel::id).collect(Collectors.joining(", "));
    }
}
