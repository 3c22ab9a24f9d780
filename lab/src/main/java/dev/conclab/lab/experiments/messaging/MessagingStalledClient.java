package dev.conclab.lab.experiments.messaging;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A chat client that joins a room and then never reads: a plain blocking socket with a small receive buffer, so
 * the server's writes to it soon find the kernel's buffers full. Only this test client speaks raw WebSocket frames
 * (the handshake, one masked text frame, and parsing the server's unmasked frames afterwards); the servers under
 * test use their libraries' codecs.
 *
 * <p><b>Thread safety.</b> Not thread-safe: one thread drives it. Nothing in it runs in the background.
 */
final class MessagingStalledClient implements AutoCloseable {

    /** The receive buffer asked for (the kernel doubles it): small, so the stall shows after a few frames. */
    private static final int RECEIVE_BUFFER = 4096;

    private final Socket socket;
    private final InputStream in;

    private MessagingStalledClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
    }

    /** Connects, upgrades and sends {@code join room}; reads only the handshake's response. */
    static MessagingStalledClient joinAndStall(URI uri, String name, String room) throws IOException {
        Socket s = new Socket();
        try {
            s.setReceiveBufferSize(RECEIVE_BUFFER);   // before connect: it sets the window offered in the handshake
            s.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5_000);
            s.setSoTimeout(10_000);
            byte[] key = new byte[16];
            ThreadLocalRandom.current().nextBytes(key);
            String request = "GET " + uri.getRawPath() + "?name=" + name + " HTTP/1.1\r\n"
                    + "Host: " + uri.getHost() + ":" + uri.getPort() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n";
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            MessagingStalledClient c = new MessagingStalledClient(s);
            String status = c.readHeaders();
            if (!status.startsWith("HTTP/1.1 101")) {
                throw new IOException("the upgrade was refused: " + status);
            }
            out.write(maskedText("{\"type\":\"join\",\"room\":\"" + room + "\"}"));
            out.flush();
            return c;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Reads everything the server sent (the frames it queued before the stall first), until a Close frame or the
     * end of the stream.
     *
     * @return the Close frame's status code, or -1 when the connection ended without one
     */
    int readUntilClose() throws IOException {
        DataInputStream data = new DataInputStream(in);
        try {
            while (true) {
                int b0 = data.readUnsignedByte();
                int b1 = data.readUnsignedByte();
                long length = b1 & 0x7f;
                if (length == 126) {
                    length = data.readUnsignedShort();
                } else if (length == 127) {
                    length = data.readLong();
                }
                byte[] payload = new byte[(int) length];
                data.readFully(payload);
                if ((b0 & 0x0f) == 0x8) {
                    return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
                }
            }
        } catch (EOFException | SocketTimeoutException e) {
            return -1;
        } catch (IOException e) {
            return -1;                                // reset by the server: cut without a Close frame
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private String readHeaders() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the server closed during the handshake");
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.US_ASCII);
        return text.substring(0, text.indexOf('\r'));
    }

    /** One final, masked text frame (RFC 6455 5.3: a client masks every frame). */
    private static byte[] maskedText(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        if (payload.length > 125) {
            throw new IllegalArgumentException("this client sends short frames only, got " + payload.length);
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        byte[] frame = new byte[2 + 4 + payload.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        return frame;
    }
}
