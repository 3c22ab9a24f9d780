package dev.conclab.lab.experiments.debugging;

import jdk.jfr.Recording;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The profiled program of {@link AsyncProfile}, in its own JVM so that JFR's recorder threads end with it:
 * {@code args[0]} requests on virtual threads under a {@link Recording}, dumped to the file {@code args[1]}.
 * Prints the requests' checksum and exits.
 */
public final class AsyncProfileChild {

    private AsyncProfileChild() {
    }

    public static void main(String[] args) throws Exception {
        int requests = Integer.parseInt(args[0]);
        long sink = 0;
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
            recording.enable("jdk.VirtualThreadStart");
            recording.start();
            try (ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<Long>> all = new ArrayList<>();
                for (int i = 0; i < requests; i++) {
                    all.add(exec.submit(AsyncProfile::handleRequest));
                }
                for (Future<Long> f : all) {
                    sink += f.get();
                }
            }
            recording.stop();
            recording.dump(Path.of(args[1]));
        }
        System.out.println(sink);
    }
}
