package dev.conclab.chat.netty;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.contract.ChatProtocolContract;

import static org.assertj.core.api.Assertions.assertThat;

/** The protocol contract against the event-loop model on the JDK's NIO selector instead of native epoll. */
class NettyNioChatServerTest extends ChatProtocolContract {

    @Override
    protected ChatServer start(ChatConfig config) {
        NettyChatServer server = NettyChatServer.start(config, false);
        assertThat(server.transport()).isEqualTo("nio");
        return server;
    }
}
