package dev.conclab.toolkit.diagnostics.doctor;

import java.util.Objects;

/**
 * A lock as a thread dump names it: the object's address in that dump and its class. Two {@code LockId}s of the
 * same dump are equal exactly when they name the same object; addresses of different dumps may not be compared
 * (the garbage collector moves objects between dumps). Immutable and thread-safe.
 *
 * @param address   the hexadecimal address printed in the dump, such as {@code 0x000000069e2f8480}
 * @param className the lock's class, such as {@code java.lang.Object} or
 *                  {@code java.util.concurrent.locks.ReentrantLock$NonfairSync}
 */
public record LockId(String address, String className) {
    public LockId {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(className, "className");
    }

    @Override
    public String toString() {
        return className + "@" + address;
    }
}
