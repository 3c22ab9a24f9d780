package dev.conclab.chat.web;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatServer;
import dev.conclab.chat.netty.NettyChatServer;

/** The chat page in headless Chromium against the event-loop model. */
class EventLoopChatPageBrowserTest extends ChatPageBrowserTest {

    @Override
    ChatServer start(ChatConfig config) {
        return NettyChatServer.start(config);
    }
}
