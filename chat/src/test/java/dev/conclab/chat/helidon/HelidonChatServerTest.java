package dev.conclab.chat.helidon;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.contract.ChatProtocolContract;

/** The protocol contract against the virtual-thread model (Helidon SE WebServer). */
class HelidonChatServerTest extends ChatProtocolContract {

    @Override
    protected ChatServer start(ChatConfig config) {
        return HelidonChatServer.start(config);
    }
}
