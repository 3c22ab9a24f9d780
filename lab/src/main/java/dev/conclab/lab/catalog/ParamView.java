package dev.conclab.lab.catalog;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.conclab.lab.engine.Param;

import java.util.List;

/**
 * A declared parameter as a form shows it: its kind ({@code int} or {@code choice}), bounds or choices, default and
 * quick values. Immutable.
 *
 * @param min          the least integer accepted, or {@code null} for a choice
 * @param max          the greatest integer accepted, or {@code null} for a choice
 * @param choices      the words accepted, or {@code null} for an integer
 * @param defaultValue the value of a full run (JSON {@code default})
 * @param quick        the value of a quick run
 */
public record ParamView(String name, String kind, String description, Integer min, Integer max,
                        List<String> choices, @JsonProperty("default") Object defaultValue, Object quick) {

    public static ParamView of(Param param) {
        return switch (param) {
            case Param.IntParam p -> new ParamView(p.name(), "int", p.description(), p.min(), p.max(), null,
                    p.defaultValue(), p.quickValue());
            case Param.ChoiceParam p -> new ParamView(p.name(), "choice", p.description(), null, null, p.choices(),
                    p.defaultValue(), p.quickValue());
        };
    }
}
