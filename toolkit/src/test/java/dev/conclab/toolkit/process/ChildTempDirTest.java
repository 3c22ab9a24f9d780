package dev.conclab.toolkit.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A child JVM started with {@link JvmLauncher#withTempDir} writes its temp files into a {@link ChildTempDir}; killed,
 * it leaves them there, and closing the directory deletes them.
 */
@Timeout(60)
class ChildTempDirTest {

    /** Makes a deleteOnExit temp file, prints its path, then waits to be killed. */
    public static final class TempFileMaker {
        public static void main(String[] args) throws Exception {
            File f = File.createTempFile("child-", ".tmp");
            f.deleteOnExit();
            System.out.println(f.getAbsolutePath());
            System.out.flush();
            new CountDownLatch(1).await();
        }
    }

    @Test
    void aKilledChildsTempFileLandsInTheDirectoryAndCloseDeletesIt() throws Exception {
        Path file;
        Path dir;
        try (ChildTempDir tmp = ChildTempDir.create("conclab-child-tmp-test-")) {
            dir = tmp.path();
            assertThat(dir.getParent()).isEqualTo(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath());
            Process child = JvmLauncher.ofCurrentJvm().withTempDir(dir).start(TempFileMaker.class);
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                file = Path.of(out.readLine());
            } finally {
                child.destroyForcibly(); // SIGKILL: deleteOnExit does not run
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(file.getParent()).as("the child's java.io.tmpdir").isEqualTo(dir.toAbsolutePath());
            assertThat(file).as("left by the kill").exists();
        }
        assertThat(file).doesNotExist();
        assertThat(dir).doesNotExist();
    }

    @Test
    void aMissingDirectoryIsRefusedWithItsName() {
        Path missing = Path.of(System.getProperty("java.io.tmpdir"), "conclab-no-such-dir-" + System.nanoTime());
        assertThatThrownBy(() -> JvmLauncher.ofCurrentJvm().withTempDir(missing))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the child's temp directory " + missing + " is not an existing directory");
    }

    @Test
    void closingTwiceIsHarmless() {
        ChildTempDir tmp = ChildTempDir.create("conclab-child-tmp-test-");
        tmp.close();
        tmp.close();
        assertThat(Files.exists(tmp.path())).isFalse();
    }
}
