package dev.conclab.chat;

import dev.conclab.chat.helidon.HelidonChatServer;
import dev.conclab.chat.netty.NettyChatServer;
import dev.conclab.chat.platform.PlatformChatServer;

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
    VTHREADS("vthreads", HelidonChatServer::start),
    /**
     * Experiment only (not served by {@code chat serve}, not in {@link #served()}): a platform thread per connection
     * with blocking socket I/O, Netty's deprecated OIO transport running the event-loop model's handler. Kept to
     * measure where a thread per connection stops scaling.
     */
    PLATFORM("platform", PlatformChatServer::start, true);

    private final String id;
    private final Function<ChatConfig, ChatServer> starter;
    private final boolean experimentOnly;

    ChatModel(String id, Function<ChatConfig, ChatServer> starter) {
        this(id, starter, false);
    }

    ChatModel(String id, Function<ChatConfig, ChatServer> starter, boolean experimentOnly) {
        this.id = id;
        this.starter = starter;
        this.experimentOnly = experimentOnly;
    }

    /** Whether this model exists only for experiments and benchmarks ({@code chat serve} does not offer it). */
    public boolean experimentOnly() {
        return experimentOnly;
    }

    /** The models {@code chat serve} offers, in declaration order (every model not {@link #experimentOnly()}). */
    public static java.util.List<ChatModel> served() {
        return Arrays.stream(values()).filter(m -> !m.experimentOnly).toList();
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
