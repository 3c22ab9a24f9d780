package dev.conclab.lab.experiments.multiprocessing;

import dev.conclab.toolkit.process.ParentWatch;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * The far end of {@link IpcThroughput}: a worker JVM that connects to the parent over a Unix-domain socket and TCP
 * loopback, maps the parent's shared-memory file, and then obeys commands read from its standard input.
 *
 * <p>Command (10 bytes on stdin): transport ({@code p} pipe, {@code u} Unix socket, {@code t} TCP, {@code s} shared
 * memory, {@code q} quit), kind ({@code b} bulk: take {@code count} messages of {@code size} bytes; {@code e}
 * echo: {@code count} times, take one message and send it back), {@code size} and {@code count} as big-endian ints.
 * When it has done the command it writes one byte ({@value #ACK}) on stdout. On the pipe, data and commands share
 * stdin and stdout, one after the other.
 *
 * <p>Arguments: the Unix socket's path, the TCP port on loopback, the shared-memory file. Exits when told, when
 * stdin ends, or (through {@link ParentWatch}) when the parent dies.
 */
public final class IpcPeer {

    static final int ACK = 'k';

    private IpcPeer() {
    }

    public static void main(String[] args) throws IOException {
        ParentWatch.exitWithParent();
        DataInputStream control = new DataInputStream(new FileInputStream(FileDescriptor.in));
        OutputStream stdout = new FileOutputStream(FileDescriptor.out);
        try (SocketChannel unix = SocketChannel.open(UnixDomainSocketAddress.of(Path.of(args[0])));
             SocketChannel tcp = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                     Integer.parseInt(args[1])));
             ShmRing shm = ShmRing.map(Path.of(args[2]))) {
            tcp.socket().setTcpNoDelay(true);
            InputStream unixIn = Channels.newInputStream(unix);
            OutputStream unixOut = Channels.newOutputStream(unix);
            InputStream tcpIn = Channels.newInputStream(tcp);
            OutputStream tcpOut = Channels.newOutputStream(tcp);
            stdout.write(ACK);
            stdout.flush();
            byte[] buffer = new byte[1];
            while (true) {
                int transport;
                try {
                    transport = control.readUnsignedByte();
                } catch (EOFException e) {
                    return;
                }
                boolean bulk = control.readUnsignedByte() == 'b';
                int size = control.readInt();
                int count = control.readInt();
                if (buffer.length < size) {
                    buffer = new byte[size];
                }
                switch (transport) {
                    case 'q' -> {
                        return;
                    }
                    case 'p' -> stream(control, stdout, bulk, buffer, size, count);
                    case 'u' -> stream(unixIn, unixOut, bulk, buffer, size, count);
                    case 't' -> stream(tcpIn, tcpOut, bulk, buffer, size, count);
                    case 's' -> shared(shm, bulk, buffer, size, count);
                    default -> throw new IOException("unknown transport " + (char) transport);
                }
                stdout.write(ACK);
                stdout.flush();
            }
        }
    }

    private static void stream(InputStream in, OutputStream out, boolean bulk, byte[] buffer, int size, int count)
            throws IOException {
        for (int i = 0; i < count; i++) {
            if (in.readNBytes(buffer, 0, size) != size) {
                throw new EOFException("the parent closed the stream mid-message");
            }
            if (!bulk) {
                out.write(buffer, 0, size);
                out.flush();
            }
        }
    }

    private static void shared(ShmRing shm, boolean bulk, byte[] buffer, int size, int count) throws IOException {
        if (bulk) {
            for (int i = 0; i < count; i++) {
                shm.read(buffer, size);
            }
            return;
        }
        // The pong counter, written only here, equals the ping counter before the parent's first ping; reading the
        // ping counter instead could already count that ping.
        long seen = shm.sequence(false);
        for (int i = 0; i < count; i++) {
            seen = shm.receive(true, seen, buffer, size);
            shm.send(false, buffer, size);
        }
    }
}
