package dev.conclab.toolkit.process;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ParentWatchTest {

    /** A middle process: starts a watched grandchild, prints its pid, then waits to be killed. */
    public static final class Middle {
        public static void main(String[] args) throws Exception {
            Process grandchild = JvmLauncher.ofCurrentJvm().start(Watched.class);
            System.out.println(grandchild.pid());
            System.out.flush();
            Thread.sleep(600_000);
        }
    }

    /** A grandchild that must not outlive its parent. */
    public static final class Watched {
        public static void main(String[] args) throws Exception {
            ParentWatch.exitWithParent();
            Thread.sleep(600_000);
        }
    }

    @Test
    void aWatchedChildExitsSoonAfterItsParentIsKilled() throws Exception {
        Process middle = JvmLauncher.ofCurrentJvm().start(Middle.class);
        ProcessHandle grandchild = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(middle.getInputStream(),
                StandardCharsets.US_ASCII))) {
            long pid = Long.parseLong(out.readLine().strip());
            grandchild = ProcessHandle.of(pid).orElseThrow();
            assertThat(grandchild.isAlive()).isTrue();

            middle.destroyForcibly(); // SIGKILL: the middle process gets no chance to clean up
            middle.waitFor(10, TimeUnit.SECONDS);

            grandchild.onExit().get(10, TimeUnit.SECONDS);
            assertThat(grandchild.isAlive()).isFalse();
        } finally {
            middle.destroyForcibly();
            if (grandchild != null) {
                grandchild.destroyForcibly();
            }
        }
    }

    @Test
    void aChildWhoseParentDiedBeforeTheWatchStartedExitsAtOnce() throws Exception {
        // pid 1 exists, but not with this start time: the named parent is gone (its pid may have been reused).
        Process child = JvmLauncher.ofCurrentJvm().withOptions("-D" + ParentWatch.PARENT_PROPERTY + "=1:12345")
                .start(Watched.class);
        try {
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).isEqualTo(ParentWatch.ORPHANED_EXIT_STATUS);
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void theLauncherRunsTheCurrentJavaWithTheCurrentClassPath() {
        var command = JvmLauncher.ofCurrentJvm().withOptions("-Xmx32m").command(Watched.class, "a");

        assertThat(command.getFirst()).isEqualTo(System.getProperty("java.home") + "/bin/java");
        assertThat(command).containsSubsequence("-Dconclab.parent="
                + ParentWatch.describe(ProcessHandle.current()), "-Xmx32m", "-cp", System.getProperty("java.class.path"),
                Watched.class.getName(), "a");
    }
}
