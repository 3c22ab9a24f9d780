package dev.conclab.chat.web;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Skips every test of a browser test class, with the reason, when Debian's headless Chromium or its driver is not
 * installed ({@link HeadlessChromium#missing()}). Evaluated per test, so each one is reported skipped with the line
 * naming what to install, rather than the class vanishing from the report. The class's {@code @BeforeAll} must not
 * launch the browser when it is missing (it may call {@link HeadlessChromium#launch}, which aborts). Stateless;
 * thread-safe.
 */
public final class NeedsChromium implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return HeadlessChromium.missing()
                .map(why -> ConditionEvaluationResult.disabled("SKIPPED: " + why))
                .orElseGet(() -> ConditionEvaluationResult.enabled("headless Chromium is installed"));
    }
}
