package dev.conclab.lab.cli;

import dev.conclab.lab.Lab;
import dev.conclab.lab.catalog.CatalogException;
import dev.conclab.lab.engine.BadParameterException;
import dev.conclab.lab.jobs.JobsStores;
import dev.conclab.lab.web.WebLab;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code conclab}: the lab's command line. */
@Command(name = "conclab", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
        version = "conclab 0.1.0",
        description = "A concurrency lab: 105 questions, each answered by an experiment that runs here.",
        subcommands = {ServeCommand.class, ListCommand.class, ShowCommand.class, ExperimentsCommand.class,
                RunCommand.class, CheckCommand.class, CrawlCommand.class, ChatCommand.class, JobsCommand.class,
                EtlCommand.class, DoctorCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "With no command: the web lab, as conclab serve starts it. The sections and where to go next:"
                + " conclab list.",
                "The launcher also takes:  ./conclab test    runs the whole test suite (mvn verify)."})
public final class Main implements Callable<Integer> {

    static final int OK = 0;
    static final int CLAIM_FAILED = 1;
    static final int USAGE = 2;

    private static Lab lab;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit status, without exiting. */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setParameterExceptionHandler((e, ignored) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("conclab: " + e.getMessage().strip()
                    + " (see: conclab " + qualifiedName(e.getCommandLine()) + "--help)");
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, ignored) -> {
            PrintWriter err = commandLine.getErr();
            if (e instanceof UsageError || e instanceof BadParameterException) {
                err.println("conclab: " + e.getMessage());
                return USAGE;
            }
            if (e instanceof CatalogException) {
                err.println("conclab: " + e.getMessage());
                return 3;
            }
            err.println("conclab: internal error: " + e);
            return 3;
        });
        return cli.execute(args);
    }

    private static String qualifiedName(CommandLine commandLine) {
        String name = commandLine.getCommandSpec().qualifiedName(" ");
        return name.equals("conclab") ? "" : name.substring("conclab ".length()) + " ";
    }

    /** The lab, loaded on first use (the catalog is validated then). */
    static synchronized Lab lab() {
        if (lab == null) {
            lab = Lab.load();
        }
        return lab;
    }

    /** With no command: the web lab on the default address, as {@code conclab serve} starts it. */
    @Override
    public Integer call() throws InterruptedException {
        return ServeCommand.serve(lab(), WebLab.DEFAULT_HOST, WebLab.DEFAULT_PORT,
                ServeCommand.checked(JobsStores.defaults()), spec.commandLine().getOut(),
                spec.commandLine().getErr(), web -> { });
    }
}
