package dev.conclab.jobs.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class WorkerMainTest {

    @Test
    void optionsAndFlagsAreParsed() {
        assertThat(WorkerMain.parse(new String[] {"--broker", "sqlite:/tmp/x.db", "--exit-with-parent",
                "--pool", "threads"}))
                .containsEntry("broker", "sqlite:/tmp/x.db").containsEntry("exit-with-parent", "true")
                .containsEntry("pool", "threads");
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> WorkerMain.parse(new String[] {"stray"}))
                .hasMessage("unexpected argument 'stray'");
        assertThatThrownBy(() -> WorkerMain.parse(new String[] {"--broker"})).hasMessage("--broker needs a value");
    }
}
