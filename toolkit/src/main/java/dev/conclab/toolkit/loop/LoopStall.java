package dev.conclab.toolkit.loop;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What the stall watchdog saw when the loop thread had been inside one callback for longer than its threshold:
 * the callback, how long it had run so far, and the loop thread's stack at that moment. Immutable.
 *
 * <p>The stack is a snapshot taken from another thread: by the time it is read the callback may have returned.
 *
 * @param loopName the loop's name
 * @param callbackName the name of the callback that was running
 * @param stalledFor how long the callback had been running when the stack was taken
 * @param stack the loop thread's stack, innermost frame first
 */
public record LoopStall(String loopName, String callbackName, Duration stalledFor, List<StackTraceElement> stack) {

    /** Frames of the loop's own machinery, skipped when looking for the frame that blocks. */
    private static final Set<String> LOOP_CLASSES = Set.of(SelectorEventLoop.class.getName(),
            Handle.class.getName(), LoopFuture.class.getName(), Task.class.getName());

    public LoopStall {
        Objects.requireNonNull(loopName, "loopName");
        Objects.requireNonNull(callbackName, "callbackName");
        Objects.requireNonNull(stalledFor, "stalledFor");
        stack = List.copyOf(stack);
    }

    /**
     * The innermost frame of application code: the first frame, from the top, that is neither in the JDK
     * ({@code java.}, {@code javax.}, {@code jdk.}, {@code sun.}, {@code com.sun.}) nor in the loop itself. For a
     * callback blocked in {@code latch.await()} this is the callback's method that called {@code await}. Empty
     * if the stack holds only JDK and loop frames.
     */
    public Optional<StackTraceElement> blockingFrame() {
        return stack.stream().filter(f -> !isJdk(f.getClassName()) && !isLoop(f.getClassName())).findFirst();
    }

    /** The top of the stack (often a JDK frame such as {@code Unsafe.park} or {@code Thread.sleep}), if any. */
    public Optional<StackTraceElement> topFrame() {
        return stack.stream().findFirst();
    }

    /** One line for a log: the callback, how long, and where it blocks. */
    public String message() {
        return String.format("event loop %s stalled: callback %s has run for %d ms; blocked at %s (top of stack: %s)",
                loopName, callbackName, stalledFor.toMillis(),
                blockingFrame().map(StackTraceElement::toString).orElse("?"),
                topFrame().map(StackTraceElement::toString).orElse("?"));
    }

    private static boolean isJdk(String className) {
        return className.startsWith("java.") || className.startsWith("javax.") || className.startsWith("jdk.")
                || className.startsWith("sun.") || className.startsWith("com.sun.");
    }

    private static boolean isLoop(String className) {
        int nested = className.indexOf('$');
        return LOOP_CLASSES.contains(nested < 0 ? className : className.substring(0, nested));
    }
}
