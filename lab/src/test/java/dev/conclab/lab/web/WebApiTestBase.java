package dev.conclab.lab.web;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One {@link TestLab} (cap 2) with a result store in a temporary folder and a client of it, per test class: started
 * before the class's tests, closed after them.
 */
abstract class WebApiTestBase {

    @TempDir
    static Path home;

    static TestLab lab;
    static Api api;

    @BeforeAll
    static void startLab() {
        lab = new TestLab(home, 2);
        api = new Api(lab.lab);
    }

    @AfterAll
    static void stopLab() {
        api.close();
        lab.close();
    }

    /** {@code answer} is a JSON error with {@code status} and exactly {@code message}. */
    static void assertError(Api.Answer answer, int status, String message) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        assertThat(answer.contentType()).startsWith("application/json");
        assertThat(answer.error()).isEqualTo(message);
    }
}
