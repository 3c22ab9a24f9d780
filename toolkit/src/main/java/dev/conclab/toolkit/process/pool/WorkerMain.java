package dev.conclab.toolkit.process.pool;

import dev.conclab.toolkit.process.ParentWatch;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The main class of a {@link ProcessPool} worker: not an API. It answers frames of {@link WireFormat} on its
 * standard input and output, one at a time, until SHUTDOWN or the end of its input. Task code that prints to
 * {@code System.out} writes to standard error instead, because standard output carries the frames.
 *
 * <p>Exit status: 0 after SHUTDOWN or end of input; {@value #WIRE_ERROR_STATUS} on a malformed frame;
 * {@value #PIPE_CLOSED_STATUS} when its output pipe is closed (the pool is gone);
 * {@value ParentWatch#ORPHANED_EXIT_STATUS} when the pool's JVM died ({@link ParentWatch}).
 */
public final class WorkerMain {

    /** Exit status after a malformed frame from the pool. */
    public static final int WIRE_ERROR_STATUS = 5;

    /** Exit status when a frame cannot be written because nobody reads the other end any more. */
    public static final int PIPE_CLOSED_STATUS = 6;

    private final Map<String, Method> methods = new HashMap<>();

    private WorkerMain() {
    }

    /** Runs the worker loop; the argument is the payload limit in bytes. */
    public static void main(String[] args) throws IOException {
        ParentWatch.exitWithParent();
        int maxPayload = args.length > 0 ? Integer.parseInt(args[0]) : WireFormat.DEFAULT_MAX_PAYLOAD;
        OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
        InputStream in = new BufferedInputStream(new FileInputStream(FileDescriptor.in), 1 << 16);
        int status;
        try {
            WireFormat.write(out, WireFormat.Type.READY, 0, List.of(ProcessHandle.current().pid()));
            status = new WorkerMain().serve(in, out, maxPayload);
        } catch (IOException pipeClosed) {
            // The pool died (or dropped this worker) between two frames, for example while this JVM was
            // starting; ParentWatch would halt it within a second anyway, so leave quietly now.
            status = PIPE_CLOSED_STATUS;
        }
        System.exit(status);
    }

    private int serve(InputStream in, OutputStream out, int maxPayload) throws IOException {
        while (true) {
            WireFormat.Frame frame;
            try {
                frame = WireFormat.read(in, maxPayload);
            } catch (FrameFormatException e) {
                System.err.println("conclab pool worker " + ProcessHandle.current().pid() + ": " + e.getMessage());
                return WIRE_ERROR_STATUS;
            }
            if (frame == null || frame.type() == WireFormat.Type.SHUTDOWN) {
                return 0;
            }
            Object reply;
            WireFormat.Type type = WireFormat.Type.RESULT;
            try {
                reply = switch (frame.type()) {
                    case INIT -> {
                        List<?> p = (List<?>) frame.payload();
                        invoke((String) p.get(0), (String) p.get(1), List.of());
                        yield null;
                    }
                    case CALL -> {
                        List<?> p = (List<?>) frame.payload();
                        List<Object> results = new ArrayList<>();
                        for (Object args : (List<?>) p.get(2)) {
                            results.add(invoke((String) p.get(0), (String) p.get(1), (List<?>) args));
                        }
                        yield results;
                    }
                    default -> throw new IllegalStateException("a worker does not accept " + frame.type() + " frames");
                };
            } catch (InvocationTargetException e) {
                type = WireFormat.Type.ERROR;
                reply = RemoteTaskException.toWire(e.getCause());
            } catch (Exception | LinkageError | StackOverflowError e) {
                type = WireFormat.Type.ERROR;
                reply = RemoteTaskException.toWire(e);
            }
            try {
                WireFormat.write(out, type, frame.requestId(), reply);
            } catch (IllegalArgumentException notAWireType) { // the task returned a type the wire cannot carry
                WireFormat.write(out, WireFormat.Type.ERROR, frame.requestId(), RemoteTaskException.toWire(notAWireType));
            }
        }
    }

    private Object invoke(String className, String methodName, List<?> args) throws ReflectiveOperationException {
        Method method = methods.get(className + "::" + methodName + "/" + args.size());
        if (method == null) {
            method = find(className, methodName, args.size());
            methods.put(className + "::" + methodName + "/" + args.size(), method);
        }
        Class<?>[] types = method.getParameterTypes();
        Object[] actual = new Object[args.size()];
        for (int i = 0; i < actual.length; i++) {
            actual[i] = adapt(args.get(i), types[i]);
        }
        Object result = method.invoke(null, actual);
        return result;
    }

    private static Method find(String className, String methodName, int arity) throws ReflectiveOperationException {
        Class<?> type = Class.forName(className, true, ClassLoader.getSystemClassLoader());
        Method found = null;
        for (Method m : type.getDeclaredMethods()) {
            if (m.getName().equals(methodName) && Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == arity) {
                if (found != null) {
                    throw new IllegalArgumentException("ambiguous task " + className + "::" + methodName
                            + ": several static methods take " + arity + " arguments");
                }
                found = m;
            }
        }
        if (found == null) {
            throw new NoSuchMethodException("no static method " + methodName + " with " + arity
                    + " parameters in " + className);
        }
        found.setAccessible(true);
        return found;
    }

    /** Narrows a wire value to an {@code int}/{@code float} parameter; other values are passed unchanged. */
    private static Object adapt(Object value, Class<?> type) {
        if (value instanceof Long l && (type == int.class || type == Integer.class)) {
            return Math.toIntExact(l);
        }
        if (value instanceof Double d && (type == float.class || type == Float.class)) {
            return d.floatValue();
        }
        return value;
    }
}
