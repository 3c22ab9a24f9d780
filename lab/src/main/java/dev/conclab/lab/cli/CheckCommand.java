package dev.conclab.lab.cli;

import dev.conclab.lab.Lab;
import dev.conclab.lab.catalog.Card;
import dev.conclab.lab.catalog.Section;
import dev.conclab.lab.engine.ClaimResult;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.engine.RunRecord;
import dev.conclab.lab.engine.Verdict;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code conclab check [SECTION|ID...] [--quick]}: runs the experiments behind cards and judges their claims. */
@Command(name = "check", description = "Run the experiments behind the named cards (or sections; all when none)"
        + " and print every claim's verdict, ending with 'N passed, N failed, N skipped'.")
final class CheckCommand implements Callable<Integer> {

    @Parameters(paramLabel = "SECTION|ID", arity = "0..*", description = "Sections or card ids.")
    List<String> targets = List.of();

    @Option(names = "--quick", description = "Use the parameters' quick values: a short run.")
    boolean quick;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Lab lab = Main.lab();
        PrintWriter out = spec.commandLine().getOut();
        List<Card> cards = cards(lab);
        Set<String> experiments = new LinkedHashSet<>();
        for (Card card : cards) {
            if (!card.answered()) {
                out.printf("%s is open: no answer or experiment yet.%n", card.id());
            }
            experiments.addAll(card.experiments());
        }
        List<ClaimResult> all = new ArrayList<>();
        for (String id : experiments) {
            Experiment experiment = lab.experiment(id).orElseThrow();
            RunRecord record = RunSession.run(lab, experiment, ParamValues.resolve(experiment.params(), Map.of(),
                    quick), quick);
            out.printf("%n%s — %s (%.1f s%s)%n", record.experiment(), record.title(), record.seconds(),
                    record.error() == null ? "" : "; " + record.error());
            record.result().claims().forEach(c -> Render.claim(out, c));
            record.result().notes().stream().filter(n -> n.startsWith("attempt "))
                    .forEach(n -> out.println("  note: " + n));
            all.addAll(record.result().claims());
            out.flush();
        }
        out.println();
        out.println(Render.counts(all));
        boolean failed = all.stream().anyMatch(c -> c.verdict() instanceof Verdict.Fails);
        return failed ? Main.CLAIM_FAILED : Main.OK;
    }

    private List<Card> cards(Lab lab) {
        if (targets.isEmpty()) {
            return lab.catalog().cards();
        }
        Set<Card> cards = new LinkedHashSet<>();
        for (String target : targets) {
            if (Section.byKey(target).isPresent()) {
                cards.addAll(lab.catalog().cards(Section.byKey(target).get()));
            } else {
                cards.add(lab.catalog().card(target).orElseThrow(() -> new UsageError("'" + target
                        + "' is neither a section nor a card id (e.g. basics or basics-04; see: conclab list)")));
            }
        }
        return List.copyOf(cards);
    }
}
