package dev.conclab.lab.probe;

import java.nio.file.Path;

/** A CPython interpreter found on this machine. */
public record Interpreter(Path path, String version, String implementation) {

    @Override
    public String toString() {
        return implementation + " " + version + " (" + path + ")";
    }
}
