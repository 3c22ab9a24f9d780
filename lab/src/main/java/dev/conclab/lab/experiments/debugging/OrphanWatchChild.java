package dev.conclab.lab.experiments.debugging;

import dev.conclab.toolkit.process.ParentWatch;

/**
 * The grandchild JVM of {@link Orphans}: installs {@link ParentWatch} on its actual parent (the shell between it and
 * the lab), says "ready" on standard output, and then idles until it is ended: by the watch when its parent dies, or
 * after {@code args[0]} seconds at the latest, so that even a broken watch cannot leave it running for long.
 */
public final class OrphanWatchChild {

    private OrphanWatchChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        ParentWatch.exitWithParent();
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.parseLong(args[0]) * 1000);
    }
}
