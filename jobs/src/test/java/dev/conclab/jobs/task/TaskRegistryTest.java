package dev.conclab.jobs.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TaskRegistryTest {

    private final TaskRegistry registry = TaskRegistry.builder()
            .register(TaskDefinition.builder("typed", (c, a) -> null)
                    .params(ArgType.INTEGER, ArgType.STRING, ArgType.ARRAY).build())
            .register(TaskDefinition.builder("any2", (c, a) -> null).arity(2).build())
            .build();

    @Test
    void validArgumentsPass() {
        assertThat(registry.validate("typed", "[1, \"a\", []]", 0)).hasSize(3);
        assertThat(registry.validate("any2", "[null, {\"k\": 1}]", 0)).hasSize(2);
        assertThat(registry.validate("typed", "[\"a\", [1]]", 1)).as("one leading argument from a canvas")
                .hasSize(2);
    }

    @Test
    void eachProblemIsNamed() {
        assertThatThrownBy(() -> registry.validate("nope", "[]", 0)).isInstanceOf(SubmitException.class)
                .hasMessage("unknown task 'nope'; registered: [any2, typed]");
        assertThatThrownBy(() -> registry.validate("typed", "[1, \"a\"", 0)).isInstanceOf(SubmitException.class)
                .hasMessageStartingWith("task 'typed': arguments are not valid JSON");
        assertThatThrownBy(() -> registry.validate("typed", "42", 0))
                .hasMessage("task 'typed': arguments must be a JSON array, got integer 42");
        assertThatThrownBy(() -> registry.validate("typed", "[1, \"a\"]", 0))
                .hasMessage("task 'typed' expects 3 argument(s), got 2");
        assertThatThrownBy(() -> registry.validate("typed", "[1.5, \"a\", []]", 0))
                .hasMessage("task 'typed' argument 0: expected integer, got number 1.5");
        assertThatThrownBy(() -> registry.validate("typed", "[1, 2, []]", 0))
                .hasMessage("task 'typed' argument 1: expected string, got integer 2");
    }

    @Test
    void definitionsAreValidated() {
        assertThatThrownBy(() -> TaskDefinition.builder("bad name", (c, a) -> null).build())
                .hasMessageContaining("task name must be");
        assertThatThrownBy(() -> TaskDefinition.builder("t", (c, a) -> null)
                .softLimit(Duration.ofSeconds(2)).hardLimit(Duration.ofSeconds(1)).build())
                .hasMessageContaining("hardLimit PT1S < softLimit PT2S");
        assertThatThrownBy(() -> TaskDefinition.builder("t", (c, a) -> null).rateLimit(0, 1).build())
                .hasMessageContaining("permitsPerSecond must be finite and > 0");
        assertThatThrownBy(() -> TaskRegistry.builder().register(TaskDefinition.builder("t", (c, a) -> null).build())
                .register(TaskDefinition.builder("t", (c, a) -> null).build()))
                .hasMessage("task 't' is already registered");
    }
}
