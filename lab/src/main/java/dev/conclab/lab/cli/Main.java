package dev.conclab.lab.cli;

import dev.conclab.lab.Lab;
import dev.conclab.lab.catalog.CatalogException;
import dev.conclab.lab.catalog.Section;
import dev.conclab.lab.engine.BadParameterException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code conclab}: the lab's command line. */
@Command(name = "conclab", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
        version = "conclab 0.1.0",
        description = "A concurrency lab: 105 questions, each answered by an experiment that runs here.",
        subcommands = {ListCommand.class, ShowCommand.class, ExperimentsCommand.class, RunCommand.class,
                CheckCommand.class, CrawlCommand.class, ChatCommand.class, JobsCommand.class, EtlCommand.class,
                DoctorCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "The launcher also takes:  ./conclab test    runs the whole test suite (mvn verify)."})
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

    /** With no command: the sections and their answered counts, then where to go next. */
    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Lab lab = lab();
        out.println("conclab — a concurrency lab. Every answer is backed by an experiment that runs on this machine.");
        out.println();
        for (Section section : Section.values()) {
            var cards = lab.catalog().cards(section);
            long answered = cards.stream().filter(c -> c.answered()).count();
            out.printf("  %-16s %2d/%-2d answered   %s%n", section.key(), answered, cards.size(), section.title());
        }
        out.printf("%n  %d of %d questions answered.%n%n", lab.catalog().answeredCount(), lab.catalog().size());
        out.println("Next steps:");
        out.println("  ./conclab list basics            the questions of a section, with their status");
        out.println("  ./conclab show basics-04         a card: the answer and the latest evidence");
        out.println("  ./conclab run cpu-io-matrix      run an experiment (add --quick for a short run)");
        out.println("  ./conclab check basics --quick   run every experiment behind a section and judge its claims");
        out.println("  ./conclab --help                 all commands");
        return OK;
    }
}
