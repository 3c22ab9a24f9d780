package dev.conclab.chat.platform;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.contract.ChatProtocolContract;

/** The protocol contract against the experiment-only platform-thread-per-connection model (Netty OIO). */
class PlatformChatServerTest extends ChatProtocolContract {

    @Override
    protected ChatServer start(ChatConfig config) {
        return PlatformChatServer.start(config);
    }
}
