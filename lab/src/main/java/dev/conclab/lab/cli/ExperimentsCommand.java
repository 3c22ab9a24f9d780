package dev.conclab.lab.cli;

import dev.conclab.lab.Lab;
import dev.conclab.lab.catalog.ExperimentView;
import dev.conclab.lab.engine.Experiment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code conclab experiments}: every experiment with its parameters, claims and the cards citing it — the same
 * {@link ExperimentView} the web lab shows.
 */
@Command(name = "experiments", description = "List the experiments with their parameters and claims.")
final class ExperimentsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Lab lab = Main.lab();
        PrintWriter out = spec.commandLine().getOut();
        for (Experiment e : lab.experiments()) {
            ExperimentView view = ExperimentView.of(e, lab.catalog(), lab.store());
            out.printf("%s — %s%n", view.id(), view.title());
            out.printf("  cards: %s%n", String.join(", ", view.cards()));
            e.params().forEach(p -> out.println("  -p " + Render.param(p)));
            view.claims().forEach(c -> out.printf("  claim %s: %s%n", c.id(), c.text()));
            out.println();
        }
        out.printf("%d experiments. Run one: ./conclab run ID [-p key=value]... [--quick]%n",
                lab.experiments().size());
        return Main.OK;
    }
}
