package dev.conclab.lab.cli;

import dev.conclab.lab.Lab;
import dev.conclab.lab.jobs.JobsStores;
import dev.conclab.lab.web.WebLab;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code conclab serve [--port P] [--host H] [--broker URL] [--store FILE] [--dags DIR]}: the web lab, on loopback
 * by default. It prints the address and serves until Ctrl-C, which cancels the running runs (their threads and
 * processes stop) and stops the server. The jobs options are the {@code jobs} commands' own (same option classes,
 * same defaults) and name the stores the jobs page reads; they are checked before the lab starts
 * ({@link JobsStores#check()}), nothing is created. {@code ./conclab} with no command does the same with the
 * defaults.
 */
@Command(name = "serve", description = "Start the web lab (default http://127.0.0.1:" + WebLab.DEFAULT_PORT
        + "/) and serve until Ctrl-C.")
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--port", paramLabel = "P", defaultValue = "" + WebLab.DEFAULT_PORT,
            description = "The port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--host", paramLabel = "H", defaultValue = WebLab.DEFAULT_HOST,
            description = "The address to listen on (default ${DEFAULT-VALUE}: this machine only).")
    String host;

    @Mixin
    JobsCommand.BrokerUrlOption broker;

    @Mixin
    DagsCommand.StoreOptions jobs;

    @Spec
    CommandSpec spec;

    /** Called once the lab listens; tests replace it to query and close the lab. */
    Consumer<WebLab> started = web -> { };

    @Override
    public Integer call() throws InterruptedException {
        return serve(Main.lab(), host, port, jobsStores(), spec.commandLine().getOut(), spec.commandLine().getErr(),
                started);
    }

    /**
     * The jobs stores named by {@code --broker}, {@code --store} and {@code --dags} (else the CLI's defaults).
     *
     * @throws UsageError one line naming the bad option and value
     */
    JobsStores jobsStores() {
        return checked(jobs.stores(broker.url()));
    }

    /**
     * {@code stores}, once {@link JobsStores#check() checked}.
     *
     * @throws UsageError one line naming the bad option and value
     */
    static JobsStores checked(JobsStores stores) {
        try {
            stores.check();
        } catch (IllegalArgumentException e) {
            throw new UsageError("serve: " + e.getMessage());
        }
        return stores;
    }

    /**
     * Serves the web lab until it is closed: by Ctrl-C (a shutdown hook closes it) or by {@code started}'s caller.
     *
     * @param started called on this thread once the lab listens (tests close it from there)
     * @return {@link Main#OK} once the lab has stopped, {@link Main#USAGE} when it cannot listen where asked
     */
    static int serve(Lab lab, String host, int port, JobsStores jobsStores, PrintWriter out, PrintWriter err,
                     Consumer<WebLab> started) throws InterruptedException {
        if (port < 0 || port > 65535) {
            throw new UsageError("--port " + port + " is not a port (0..65535; 0 picks a free one)");
        }
        WebLab web;
        try {
            web = WebLab.start(lab, host, port, jobsStores);
        } catch (WebLab.CannotListenException e) {
            err.println("conclab: " + e.getMessage() + (e.portInUse()
                    ? "; choose another with --port, e.g. ./conclab serve --port " + (port + 1)
                    : "; choose another with --host"));
            err.flush();
            return Main.USAGE;
        }
        Thread hook = Thread.ofPlatform().name("conclab-web-stop").unstarted(() -> {
            err.println();
            err.println("conclab: stopping the web lab (cancelling its runs)…");
            err.flush();
            web.close();
            err.println("conclab: stopped.");
            err.flush();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        if (!web.loopback()) {
            err.println("conclab: warning: listening on " + host + ", not loopback: anyone who can reach this"
                    + " machine on port " + web.port() + " can open the lab and start runs on it");
            err.flush();
        }
        out.println("conclab web lab: " + web.address() + "  (Ctrl-C stops it)");
        out.flush();
        try {
            started.accept(web);
            web.awaitClosed();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is closing the lab
            }
            web.close();
        }
        return Main.OK;
    }
}
