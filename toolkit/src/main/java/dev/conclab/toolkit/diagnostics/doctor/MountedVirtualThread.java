package dev.conclab.toolkit.diagnostics.doctor;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A virtual thread that a thread dump found mounted on a carrier (the dump's "Mounted virtual thread #N" section).
 * A mounted virtual thread that is running is normal; one that is <em>blocked</em> while mounted is pinned: it
 * could not unmount (a native or foreign frame is on its stack, or it runs a class initializer), so it blocks its
 * carrier too, and that carrier cannot run any other virtual thread until it unblocks. Immutable and thread-safe.
 *
 * @param id      the virtual thread's id as the dump prints it ({@code #22})
 * @param carrier the name of the platform thread carrying it
 * @param frames  its stack, innermost first
 */
public record MountedVirtualThread(String id, String carrier, List<String> frames) {
    private static final String PARK_ON_CARRIER = "java.lang.VirtualThread.parkOnCarrierThread(";
    private static final String OBJECT_WAIT = "java.lang.Object.wait0(";

    public MountedVirtualThread {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(carrier, "carrier");
        frames = List.copyOf(frames);
    }

    /**
     * Whether it is blocked while mounted: parked on its carrier ({@code VirtualThread.parkOnCarrierThread}, the
     * JDK's path when a park cannot unmount) or in {@code Object.wait} without unmounting.
     */
    public boolean blockedOnCarrier() {
        return frames.stream().anyMatch(f -> f.startsWith(PARK_ON_CARRIER))
                || !frames.isEmpty() && frames.getFirst().startsWith(OBJECT_WAIT);
    }

    /** The first frame outside the JDK: where the reader's code blocks; the top frame if there is none. */
    public String blocksAt() {
        return frames.stream().filter(f -> !ThreadSample.isJdkFrame(f)).findFirst()
                .orElse(frames.isEmpty() ? "?" : frames.getFirst());
    }

    /**
     * The frame that keeps it from unmounting, innermost first: a foreign upcall or downcall stub, a JNI
     * ({@code Native Method}) frame below the blocking call, or a class initializer; empty if none is visible.
     */
    public Optional<String> pinnedBy() {
        // Skip the park or wait itself: its own native frame (Unsafe.park, Object.wait0) does not pin.
        for (String f : frames.subList(frames.isEmpty() ? 0 : 1, frames.size())) {
            if (f.contains("foreign.abi.UpcallStub") || f.contains("foreign.abi.DowncallStub")
                    || f.contains("(Native Method)") || f.contains(".<clinit>(")) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /**
     * Where the reader's code entered native code: the first frame outside the JDK below (outer to) the innermost
     * downcall stub or JNI frame; empty if there is none (a class initializer, for example).
     */
    public Optional<String> nativeCallSite() {
        int from = frames.isEmpty() ? 0 : 1;
        for (int i = from; i < frames.size(); i++) {
            String f = frames.get(i);
            if (f.contains("foreign.abi.DowncallStub") || f.contains("(Native Method)")) {
                return frames.subList(i + 1, frames.size()).stream().filter(g -> !ThreadSample.isJdkFrame(g))
                        .findFirst();
            }
        }
        return Optional.empty();
    }
}
