package dev.conclab.chat.netty;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.contract.ChatProtocolContract;

/** The protocol contract against the event-loop model (native epoll where available). */
class NettyChatServerTest extends ChatProtocolContract {

    @Override
    protected ChatServer start(ChatConfig config) {
        return NettyChatServer.start(config);
    }
}
