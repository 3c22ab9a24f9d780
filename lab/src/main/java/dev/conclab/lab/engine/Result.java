package dev.conclab.lab.engine;

import java.util.List;
import java.util.Map;

/**
 * What one run of an experiment produced: tables, chart series, notes, the trace (Chrome Trace Event objects,
 * empty when the experiment draws none) and a verdict for every declared claim, in declaration order.
 */
public record Result(List<Table> tables, List<Series> series, List<String> notes,
                     List<Map<String, Object>> trace, List<ClaimResult> claims) {

    public Result {
        tables = List.copyOf(tables);
        series = List.copyOf(series);
        notes = List.copyOf(notes);
        trace = List.copyOf(trace);
        claims = List.copyOf(claims);
    }

    public long count(Class<? extends Verdict> kind) {
        return claims.stream().filter(c -> kind.isInstance(c.verdict())).count();
    }
}
