package dev.conclab.lab.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.BadParameterException;
import dev.conclab.lab.engine.Experiment;
import dev.conclab.lab.engine.ParamValues;
import dev.conclab.lab.experiments.Experiments;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every shipped experiment can be started from its card's form: the values the page puts in the form (the default,
 * the quick value and each bound the API declares, as text, as js/experiment.js sends them) pass the server's own
 * check, the one {@link RunManager#start} applies before it runs anything. The runs themselves are the engine's,
 * checked in quick mode for every experiment by QuickRunTest.
 */
class ExperimentFormsTest extends WebApiTestBase {

    @Test
    void everyShippedExperimentAcceptsWhatItsFormSends() {
        List<String> refused = new ArrayList<>();
        int forms = 0;
        for (Experiment shipped : Experiments.all()) {
            JsonNode exp = api.get("/api/experiments/" + shipped.id()).json();
            for (String column : List.of("default", "quick", "min", "max")) {
                Map<String, String> form = form(exp, column);
                for (boolean quick : new boolean[]{true, false}) {
                    try {
                        ParamValues.resolve(shipped.params(), form, quick);
                        forms++;
                    } catch (BadParameterException e) {
                        refused.add(shipped.id() + " " + column + " " + form + ": " + e.getMessage());
                    }
                }
            }
        }
        assertThat(refused).as("forms the server refuses").isEmpty();
        assertThat(forms).isEqualTo(Experiments.all().size() * 8);
    }

    @Test
    void aValueOutsideTheDeclaredBoundsIsRefused() {
        int checked = 0;
        for (Experiment shipped : Experiments.all()) {
            JsonNode exp = api.get("/api/experiments/" + shipped.id()).json();
            for (JsonNode p : exp.path("params")) {
                if (!p.path("max").isNumber()) {
                    continue;
                }
                Map<String, String> form = form(exp, "default");
                form.put(p.path("name").asText(), Long.toString(p.path("max").asLong() + 1));
                try {
                    ParamValues.resolve(shipped.params(), form, false);
                    throw new AssertionError(shipped.id() + " accepted " + form);
                } catch (BadParameterException expected) {
                    checked++;
                }
            }
        }
        assertThat(checked).as("integer parameters checked").isPositive();
    }

    /** The form of {@code exp} with every field set to its {@code column} value, or to the default for a choice. */
    private static Map<String, String> form(JsonNode exp, String column) {
        Map<String, String> form = new LinkedHashMap<>();
        for (JsonNode p : exp.path("params")) {
            JsonNode value = p.path(column);
            form.put(p.path("name").asText(), (value.isMissingNode() || value.isNull() ? p.path("default") : value)
                    .asText());
        }
        return form;
    }
}
