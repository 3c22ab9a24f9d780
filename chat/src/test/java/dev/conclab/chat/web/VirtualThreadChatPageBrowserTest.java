package dev.conclab.chat.web;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.helidon.HelidonChatServer;

/** The chat page in headless Chromium against the virtual-thread model (Helidon). */
class VirtualThreadChatPageBrowserTest extends ChatPageBrowserTest {

    @Override
    ChatServer start(ChatConfig config) {
        return HelidonChatServer.start(config);
    }
}
