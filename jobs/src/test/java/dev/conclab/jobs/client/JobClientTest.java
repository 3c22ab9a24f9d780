package dev.conclab.jobs.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conclab.jobs.broker.TaskMessage;
import dev.conclab.jobs.canvas.Chain;
import dev.conclab.jobs.canvas.Chord;
import dev.conclab.jobs.canvas.Group;
import dev.conclab.jobs.canvas.Signature;
import dev.conclab.jobs.demo.DemoTasks;
import dev.conclab.jobs.task.SubmitException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the client hands the broker, checked on a recording broker: options, chains, chords, rejections. */
class JobClientTest {

    private static final long NOW = 1_000_000L;
    private final RecordingBroker broker = new RecordingBroker();
    private final JobClient client = new JobClient(broker, DemoTasks.REGISTRY, () -> NOW);

    @Test
    void submitAppliesOptionsOverTheTaskDefaults() {
        String id = client.submit("fail-always", SubmitOptions.builder().countdown(Duration.ofSeconds(2))
                .priority(7).queue("q2").idempotencyKey("k1").softLimit(Duration.ofMillis(300)).build());
        TaskMessage m = (TaskMessage) broker.calls.getFirst();
        assertThat(m.id()).isEqualTo(id);
        assertThat(m.notBeforeMillis()).isEqualTo(NOW + 2000);
        assertThat(m.priority()).isEqualTo(7);
        assertThat(m.queue()).isEqualTo("q2");
        assertThat(m.idempotencyKey()).isEqualTo("k1");
        assertThat(m.maxRetries()).as("the task's default").isEqualTo(3);
        assertThat(m.softLimitMillis()).isEqualTo(300);
        assertThat(m.argsJson()).isEqualTo("[]");
        assertThat(m.submittedMillis()).isEqualTo(NOW);
    }

    @Test
    void etaAndCountdownTakeTheLater() {
        client.submit("noop", SubmitOptions.builder().countdown(Duration.ofMillis(10))
                .eta(Instant.ofEpochMilli(NOW + 5000)).build());
        assertThat(((TaskMessage) broker.calls.getFirst()).notBeforeMillis()).isEqualTo(NOW + 5000);
    }

    @Test
    void malformedSubmissionsAreRejectedBeforeAnythingIsStored() {
        assertThatThrownBy(() -> client.submit("nope", 1)).isInstanceOf(SubmitException.class)
                .hasMessageContaining("unknown task 'nope'").hasMessageContaining("add");
        assertThatThrownBy(() -> client.submit("add", 1)).isInstanceOf(SubmitException.class)
                .hasMessageContaining("'add' expects 2 argument(s), got 1");
        assertThatThrownBy(() -> client.submit("add", 1, "two")).isInstanceOf(SubmitException.class)
                .hasMessageContaining("argument 1: expected integer, got string \"two\"");
        assertThatThrownBy(() -> client.submitJson("add", "[1, 2", SubmitOptions.DEFAULTS))
                .isInstanceOf(SubmitException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> client.submitJson("add", "{\"a\":1}", SubmitOptions.DEFAULTS))
                .isInstanceOf(SubmitException.class).hasMessageContaining("must be a JSON array, got object");
        assertThat(broker.calls).isEmpty();
    }

    @Test
    void aChainEnqueuesItsFirstStepCarryingTheRestAsLinks() {
        List<String> ids = client.submit(Chain.of(Signature.of("add", 1, 2), Signature.of("add", 10),
                Signature.of("echo")));
        assertThat(broker.calls).hasSize(1);
        TaskMessage first = (TaskMessage) broker.calls.getFirst();
        assertThat(first.id()).isEqualTo(ids.get(0));
        assertThat(first.parentId()).isNull();
        TaskMessage second = first.link();
        assertThat(second.id()).isEqualTo(ids.get(1));
        assertThat(second.parentId()).isEqualTo(ids.get(0));
        assertThat(second.argsJson()).isEqualTo("[10]");
        TaskMessage third = second.link();
        assertThat(third.id()).isEqualTo(ids.get(2));
        assertThat(third.parentId()).isEqualTo(ids.get(1));
        assertThat(third.link()).isNull();
    }

    @Test
    void aChainStepIsCheckedWithoutTheArgumentItsParentPasses() {
        assertThatThrownBy(() -> client.submit(Chain.of(Signature.of("add", 1, 2), Signature.of("add", 1, 2))))
                .isInstanceOf(SubmitException.class)
                .hasMessageContaining("expects 1 argument(s) (besides the 1 the canvas passes), got 2");
        assertThat(broker.calls).isEmpty();
    }

    @Test
    void aChordRegistersItsCallbackBeforeItsMembers() {
        String callbackId = client.submit(Chord.of(Group.of(Signature.of("add", 1, 2), Signature.of("add", 3, 4)),
                Signature.of("echo")));
        assertThat(broker.calls).hasSize(3);
        RecordingBroker.OpenChord open = (RecordingBroker.OpenChord) broker.calls.getFirst();
        assertThat(open.callback().id()).isEqualTo(callbackId);
        assertThat(open.callback().chordResultsOf()).isEqualTo(open.chordId());
        TaskMessage m1 = (TaskMessage) broker.calls.get(1);
        TaskMessage m2 = (TaskMessage) broker.calls.get(2);
        assertThat(open.memberIds()).containsExactly(m1.id(), m2.id());
        assertThat(m1.chordId()).isEqualTo(open.chordId());
        assertThat(m2.chordId()).isEqualTo(open.chordId());
    }

    @Test
    void aGroupEnqueuesEveryMember() {
        List<String> ids = client.submit(Group.of(Signature.of("noop"), Signature.of("echo", "x")));
        assertThat(ids).hasSize(2).doesNotHaveDuplicates();
        assertThat(broker.calls).hasSize(2);
    }

    @Test
    void badOptionsAreRejected() {
        assertThatThrownBy(() -> SubmitOptions.builder().priority(10).build())
                .hasMessageContaining("priority must be 0..9, was 10");
        assertThatThrownBy(() -> SubmitOptions.builder().countdown(Duration.ofSeconds(-1)).build())
                .hasMessageContaining("countdown must be >= 0");
    }
}
