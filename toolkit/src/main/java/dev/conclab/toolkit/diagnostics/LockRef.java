package dev.conclab.toolkit.diagnostics;

import java.lang.management.LockInfo;
import java.util.Objects;

/**
 * One lock as the JVM names it in a thread dump: the class of the lock object and its identity hash code, e.g.
 * {@code java.util.concurrent.locks.ReentrantLock$NonfairSync@1b6d3586}.
 *
 * <p>For an object monitor ({@code synchronized}) the lock object is the object synchronized on, and
 * {@link #isMonitorOf(Object)} matches it. For a {@code ReentrantLock} or {@code ReentrantReadWriteLock} the JVM
 * names the lock's internal synchronizer (its private {@code Sync} object), not the lock itself: match such a lock
 * through the threads that hold it ({@link DeadlockDetector#locksHeldBy(Thread)}) rather than by object.
 *
 * @param className         the lock object's class name
 * @param identityHashCode  the lock object's {@link System#identityHashCode(Object)}
 * @param kind              whether the JVM reports it as a monitor or as an ownable synchronizer
 */
public record LockRef(String className, int identityHashCode, Kind kind) {

    /** How the JVM tracks the lock. */
    public enum Kind {
        /** An object monitor, taken by {@code synchronized}. */
        MONITOR,
        /** An ownable synchronizer: a lock built on {@code AbstractOwnableSynchronizer}, such as ReentrantLock. */
        OWNABLE_SYNCHRONIZER
    }

    public LockRef {
        Objects.requireNonNull(className, "className");
        Objects.requireNonNull(kind, "kind");
    }

    static LockRef of(LockInfo info, Kind kind) {
        return new LockRef(info.getClassName(), info.getIdentityHashCode(), kind);
    }

    /** Whether this is the monitor of {@code object} (never true for an ownable synchronizer). */
    public boolean isMonitorOf(Object object) {
        Objects.requireNonNull(object, "object");
        return kind == Kind.MONITOR && object.getClass().getName().equals(className)
                && System.identityHashCode(object) == identityHashCode;
    }

    /** The thread-dump form, {@code ClassName@hexHash}. */
    @Override
    public String toString() {
        return className + "@" + Integer.toHexString(identityHashCode);
    }
}
