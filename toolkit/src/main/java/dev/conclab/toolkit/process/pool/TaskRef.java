package dev.conclab.toolkit.process.pool;

import java.util.Objects;

/**
 * Names a task by the binary name of a class and the name of a {@code static} method of it, both reachable on
 * the worker's class path (the same class path as the pool's JVM). Only the two names cross the wire; no code
 * or object is serialized.
 *
 * <p>The worker picks the static method of that name whose parameter count equals the number of arguments
 * (the method need not be public; overloads with the same parameter count are rejected as ambiguous). Arguments
 * are passed as decoded by {@link WireFormat} ({@code Long}, {@code Double}, ...); a {@code long}, {@code int},
 * {@code double}, {@code boolean}, {@code String}, {@code byte[]}, {@code List}, {@code Map} or {@code Object}
 * parameter accepts them ({@code int} only when the value fits). The return value must be one of the wire types;
 * {@code void} returns {@code null}.
 *
 * <p>Instances are immutable values.
 *
 * @param className  the binary class name, for example {@code com.example.Tasks} or {@code a.b.Outer$Inner}
 * @param methodName the static method's name
 */
public record TaskRef(String className, String methodName) {

    /** Checks that both names are present. */
    public TaskRef {
        Objects.requireNonNull(className, "className");
        Objects.requireNonNull(methodName, "methodName");
        if (className.isBlank() || methodName.isBlank()) {
            throw new IllegalArgumentException("blank class or method name: " + className + "." + methodName);
        }
    }

    /** The task {@code type.methodName}. */
    public static TaskRef of(Class<?> type, String methodName) {
        return new TaskRef(type.getName(), methodName);
    }

    @Override
    public String toString() {
        return className + "::" + methodName;
    }
}
