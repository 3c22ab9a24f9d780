package dev.conclab.chat.platform;

import io.netty.channel.socket.oio.OioServerSocketChannel;

import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;

/**
 * The platform model's listening channel: Netty's OIO server channel, blocking in {@code accept()} on its own
 * thread, that wraps each accepted socket in a {@link PlatformSocketChannel}. Confined to its thread, as Netty
 * requires.
 */
@SuppressWarnings("deprecation") // OIO: see PlatformChatServer
final class PlatformServerSocketChannel extends OioServerSocketChannel {

    private final ServerSocket serverSocket;

    PlatformServerSocketChannel(ServerSocket serverSocket) {
        super(serverSocket);
        this.serverSocket = serverSocket;
    }

    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
        if (serverSocket.isClosed()) {
            return -1;
        }
        try {
            Socket s = serverSocket.accept();
            try {
                buf.add(new PlatformSocketChannel(this, s));
                return 1;
            } catch (Throwable t) {
                s.close();
                throw t;
            }
        } catch (SocketTimeoutException e) {
            return 0; // SO_TIMEOUT: back to the loop, which checks for a close
        }
    }
}
