package dev.conclab.lab.engine;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ParamValuesTest {

    private static final List<Param> DECLARED = List.of(
            new Param.IntParam("threads", "threads", 1, 256, 16, 4),
            new Param.ChoiceParam("model", "model", List.of("threads", "processes"), "threads", "processes"));

    @Test
    void defaultsAndQuickValuesApplyUnlessOverridden() {
        assertThat(ParamValues.resolve(DECLARED, Map.of(), false).values())
                .containsExactly(Map.entry("threads", 16), Map.entry("model", "threads"));
        assertThat(ParamValues.resolve(DECLARED, Map.of(), true).values())
                .containsExactly(Map.entry("threads", 4), Map.entry("model", "processes"));
        assertThat(ParamValues.resolve(DECLARED, Map.of("threads", "1_0"), true).getInt("threads")).isEqualTo(10);
    }

    @Test
    void aValueOutOfBoundsNamesTheParameterAndTheRange() {
        assertThatThrownBy(() -> ParamValues.resolve(DECLARED, Map.of("threads", "1000000000"), false))
                .isInstanceOf(BadParameterException.class)
                .hasMessage("parameter threads=1000000000 is out of range (allowed: 1..256)");
        assertThatThrownBy(() -> ParamValues.resolve(DECLARED, Map.of("threads", "0"), false))
                .hasMessage("parameter threads=0 is out of range (allowed: 1..256)");
        assertThatThrownBy(() -> ParamValues.resolve(DECLARED, Map.of("threads", "99999999999999999999"), false))
                .hasMessage("parameter threads=99999999999999999999 is not an integer (allowed: 1..256)");
    }

    @Test
    void aMalformedOrUnknownParameterIsRefused() {
        assertThatThrownBy(() -> ParamValues.resolve(DECLARED, Map.of("threads", "many"), false))
                .hasMessage("parameter threads=many is not an integer (allowed: 1..256)");
        assertThatThrownBy(() -> ParamValues.resolve(DECLARED, Map.of("model", "fibers"), false))
                .hasMessage("parameter model=fibers is not allowed (allowed: threads|processes)");
        assertThatThrownBy(() -> ParamValues.resolve(DECLARED, Map.of("thread", "2"), false))
                .hasMessage("unknown parameter 'thread' (it takes threads, model)");
    }

    @Test
    void aDeclarationWhoseDefaultsLieOutsideItsBoundsIsRefused() {
        assertThatThrownBy(() -> new Param.IntParam("n", "n", 1, 10, 11, 5))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Param.ChoiceParam("m", "m", List.of("a"), "a", "b"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
