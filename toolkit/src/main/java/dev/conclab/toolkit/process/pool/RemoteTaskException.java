package dev.conclab.toolkit.process.pool;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A task threw in a worker process. The exception's class name and message are the remote ones, its stack trace
 * is the remote stack trace (frames of the worker), and its cause is the remote cause, rebuilt the same way.
 * The remote exception class is named, not loaded: nothing is deserialized.
 *
 * <p>It reaches callers as the cause of an {@link java.util.concurrent.ExecutionException} (blocking calls) or
 * of a {@link java.util.concurrent.CompletionException} (futures and iterators).
 */
public final class RemoteTaskException extends Exception {

    private final String remoteClassName;
    private final String remoteMessage;

    /** An exception standing for a remote one of class {@code remoteClassName} with {@code remoteMessage}. */
    public RemoteTaskException(String remoteClassName, String remoteMessage, StackTraceElement[] remoteFrames,
                               RemoteTaskException remoteCause) {
        super(remoteClassName + (remoteMessage == null ? "" : ": " + remoteMessage), remoteCause);
        this.remoteClassName = remoteClassName;
        this.remoteMessage = remoteMessage;
        setStackTrace(remoteFrames);
    }

    /** The binary name of the exception's class in the worker, for example {@code java.lang.ArithmeticException}. */
    public String remoteClassName() {
        return remoteClassName;
    }

    /** The remote exception's message, or {@code null}. */
    public String remoteMessage() {
        return remoteMessage;
    }

    /** The wire form of {@code error}: a map {@code class, message, frames, cause}. */
    static Map<String, Object> toWire(Throwable error) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("class", error.getClass().getName());
        map.put("message", error.getMessage());
        List<Object> frames = new ArrayList<>();
        for (StackTraceElement frame : error.getStackTrace()) {
            frames.add(List.of(frame.getClassName(), frame.getMethodName(),
                    frame.getFileName() == null ? "" : frame.getFileName(), (long) frame.getLineNumber()));
        }
        map.put("frames", frames);
        Throwable cause = error.getCause();
        map.put("cause", cause == null || cause == error ? null : toWire(cause));
        return map;
    }

    /** Rebuilds the exception sent by {@link #toWire}; a malformed map gives a clear placeholder. */
    static RemoteTaskException fromWire(Object wire) {
        if (!(wire instanceof Map<?, ?> map)) {
            return new RemoteTaskException("<unknown>", "malformed error payload: " + wire, new StackTraceElement[0], null);
        }
        List<StackTraceElement> frames = new ArrayList<>();
        if (map.get("frames") instanceof List<?> list) {
            for (Object item : list) {
                if (item instanceof List<?> f && f.size() == 4) {
                    String file = String.valueOf(f.get(2));
                    frames.add(new StackTraceElement(String.valueOf(f.get(0)), String.valueOf(f.get(1)),
                            file.isEmpty() ? null : file, f.get(3) instanceof Long line ? line.intValue() : -1));
                }
            }
        }
        RemoteTaskException cause = map.get("cause") == null ? null : fromWire(map.get("cause"));
        return new RemoteTaskException(String.valueOf(map.get("class")),
                map.get("message") == null ? null : String.valueOf(map.get("message")),
                frames.toArray(StackTraceElement[]::new), cause);
    }
}
