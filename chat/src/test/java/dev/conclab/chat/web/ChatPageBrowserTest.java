package dev.conclab.chat.web;

import dev.conclab.chat.ChatConfig;
import dev.conclab.chat.ChatServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chat page in a real browser: two headless Chromium instances (two chat sessions, each a
 * {@link HeadlessChromium}) on one server in this JVM, of the model a subclass starts (every served model has one).
 * Nothing is downloaded: the browser and the driver are Debian's {@code chromium} and {@code chromium-driver}; without
 * them the test fails and says what to install, it never skips.
 *
 * <p>After the class, both browsers, both drivers and the server are stopped, and no process of the browsers is
 * left (checked by {@link HeadlessChromium#close()}: by pid and by each browser's own profile directory).
 */
@ExtendWith(NeedsChromium.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
abstract class ChatPageBrowserTest {

    /** Starts a server of the model under test (each model's page is tested in its own subclass). */
    abstract ChatServer start(ChatConfig config);

    private static final Duration WAIT = Duration.ofSeconds(15);

    /** Small limits so that "too long" is quick to type: 200-char texts, 1 KiB frames. */
    private static final ChatConfig CONFIG = ChatConfig.defaults().withPort(0).withIoThreads(1)
            .withMaxFrameBytes(1024).withMaxTextChars(200);

    private ChatServer server;
    private final List<HeadlessChromium> browsers = new ArrayList<>();

    @BeforeAll
    void startServerAndBrowsers() {
        server = start(CONFIG);
        Path screenshots = Path.of("target", "screenshots");
        browsers.add(HeadlessChromium.launch(screenshots));
        browsers.add(HeadlessChromium.launch(screenshots));
    }

    @AfterAll
    void stopEverything() {
        List<Throwable> failures = new ArrayList<>();
        for (HeadlessChromium b : browsers) {
            try {
                b.close();
            } catch (RuntimeException | AssertionError e) {
                failures.add(e);
            }
        }
        if (server != null) {
            server.close(Duration.ofSeconds(2));
        }
        assertThat(failures).as("errors closing the browsers").isEmpty();
    }

    @Test
    void twoBrowsersChatThroughThePage() {
        WebDriver alice = browsers.get(0).driver();
        WebDriver bob = browsers.get(1).driver();

        connect(alice, "alice");
        connect(bob, "bob");
        join(alice, "lobby");
        join(bob, "lobby");
        awaitPresence(alice, "lobby", "alice", "bob");
        awaitPresence(bob, "lobby", "alice", "bob");

        // a room message, with markup that must arrive as text
        String hello = "hello <b>bob</b> & <script>alert(1)</script>";
        type(alice, "text", hello);
        click(alice, "send");
        WebElement seenByBob = awaitMessage(bob, "lobby", hello);
        WebElement seenByAlice = awaitMessage(alice, "lobby", hello);
        long id = Long.parseLong(seenByBob.getDomAttribute("data-id"));
        assertThat(id).as("the server's id").isPositive();
        assertThat(seenByAlice.getDomAttribute("data-id")).isEqualTo(String.valueOf(id));
        assertThat(seenByBob.getDomAttribute("data-from")).isEqualTo("alice");
        assertThat(seenByBob.findElement(By.className("meta")).getText()).matches("#" + id + " \\d\\d:\\d\\d:\\d\\d");
        assertThat(seenByBob.findElements(By.tagName("b"))).as("user text is never parsed as HTML").isEmpty();
        assertThat(seenByBob.findElements(By.tagName("script"))).isEmpty();

        // a direct message: bob's copy gets the id of the ack, alice's carries the same id
        type(bob, "dm-to", "alice");
        type(bob, "dm-text", "psst, alice");
        click(bob, "dm-send");
        WebElement dm = waitFor(alice, d -> first(d, By.cssSelector("#dms li.dm[data-from='bob']")));
        assertThat(dm.findElement(By.className("text")).getText()).isEqualTo("psst, alice");
        WebElement sent = waitFor(bob, d -> first(d, By.cssSelector("#dms li.sent[data-id]:not(.pending)")));
        assertThat(sent.getDomAttribute("data-id")).isEqualTo(dm.getDomAttribute("data-id"));
        assertThat(sent.findElement(By.className("meta")).getText())
                .matches("#" + dm.getDomAttribute("data-id") + " \\d\\d:\\d\\d:\\d\\d");

        // leave, then join again: alice sees bob go and come back, bob gets the room's history on join
        WebElement bobsLobby = waitFor(bob, d -> first(d, By.cssSelector("#rooms li[data-room='lobby']")));
        bobsLobby.findElement(By.className("leave")).click();
        awaitPresence(alice, "lobby", "alice");
        waitFor(bob, d -> d.findElements(By.cssSelector("#rooms li[data-room='lobby']")).isEmpty() ? true : null);
        join(bob, "lobby");
        WebElement fromHistory = awaitMessage(bob, "lobby", hello);
        assertThat(fromHistory.getDomAttribute("data-id")).isEqualTo(String.valueOf(id));
        awaitPresence(bob, "lobby", "alice", "bob");
        awaitPresence(alice, "lobby", "alice", "bob");

        // a text over the limit: an error, the connection stays open
        type(alice, "text", "x".repeat(CONFIG.maxTextChars() + 1));
        click(alice, "send");
        waitFor(alice, d -> first(d, By.cssSelector("#errors li[data-code='invalid-field']")));
        assertThat(status(alice).getDomAttribute("data-state")).isEqualTo("open");

        // a message over the frame limit: the server closes the connection with 1009 and the page shows that code.
        // (Before the event-loop model read the refused frame's rest and shut its output down after the Close frame,
        // it closed the TCP connection at once, the unread bytes reset it, and Chromium reported 1006.)
        type(alice, "text", "y".repeat(CONFIG.maxFrameBytes() + 10));
        click(alice, "send");
        waitFor(alice, d -> "closed".equals(status(d).getDomAttribute("data-state")) ? true : null);
        String code = status(alice).getDomAttribute("data-close-code");
        assertThat(code).as("the close code the browser reports for an oversize message").isEqualTo("1009");
        assertThat(status(alice).getText()).contains(code);
        assertThat(alice.findElements(By.cssSelector("#errors li[data-code='closed']"))).isNotEmpty();
        awaitPresence(bob, "lobby", "bob");

        // reconnect: the same name, back in the room
        click(alice, "reconnect");
        waitFor(alice, d -> "open".equals(status(d).getDomAttribute("data-state")) ? true : null);
        waitFor(alice, d -> "alice".equals(d.findElement(By.id("me")).getText()) ? true : null);
        awaitPresence(alice, "lobby", "alice", "bob");
        awaitPresence(bob, "lobby", "alice", "bob");
    }

    // ---- page actions ----

    private String base() {
        return "http://" + CONFIG.host().getHostAddress() + ":" + server.port();
    }

    private void connect(WebDriver d, String name) {
        d.get(base() + "/");
        type(d, "name", name);
        click(d, "connect");
        waitFor(d, x -> "open".equals(status(x).getDomAttribute("data-state")) ? true : null);
        waitFor(d, x -> name.equals(x.findElement(By.id("me")).getText()) ? true : null);
    }

    private void join(WebDriver d, String room) {
        type(d, "room", room);
        click(d, "join");
        waitFor(d, x -> first(x, By.cssSelector("#rooms li[data-room='" + room + "']")));
    }

    private static void type(WebDriver d, String id, String text) {
        WebElement input = d.findElement(By.id(id));
        input.clear();
        input.sendKeys(text);
    }

    private static void click(WebDriver d, String id) {
        WebElement button = d.findElement(By.id(id));
        waitFor(d, x -> button.isEnabled() ? true : null);
        button.click();
    }

    private static WebElement status(WebDriver d) {
        return d.findElement(By.id("status"));
    }

    private static void awaitPresence(WebDriver d, String room, String... names) {
        waitFor(d, x -> {
            if (!room.equals(x.findElement(By.id("presence-room")).getText())) {
                return null;
            }
            List<String> shown = x.findElements(By.cssSelector("#presence li")).stream()
                    .map(e -> e.getDomAttribute("data-name")).sorted(Comparator.naturalOrder()).toList();
            return shown.equals(List.of(names)) ? true : null;
        });
    }

    private static WebElement awaitMessage(WebDriver d, String room, String text) {
        return waitFor(d, x -> x.findElements(By.cssSelector("ol[data-room='" + room + "'] li.message")).stream()
                .filter(e -> text.equals(e.findElement(By.className("text")).getText()))
                .findFirst().orElse(null));
    }

    private static WebElement first(WebDriver d, By by) {
        List<WebElement> found = d.findElements(by);
        return found.isEmpty() ? null : found.getFirst();
    }

    private static <T> T waitFor(WebDriver d, Function<WebDriver, T> condition) {
        return new WebDriverWait(d, WAIT, Duration.ofMillis(50))
                .withMessage(() -> "page state: status=" + describe(d, "status") + " errors=" + describe(d, "errors"))
                .until(condition::apply);
    }

    private static String describe(WebDriver d, String id) {
        try {
            WebElement e = d.findElement(By.id(id));
            return "'" + e.getText() + "' " + e.getDomAttribute("data-close-code");
        } catch (RuntimeException ex) {
            return ex.toString();
        }
    }
}
