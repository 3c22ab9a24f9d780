package dev.conclab.lab.probe;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conclab.lab.engine.ClaimSpec;
import dev.conclab.lab.engine.RunContext;
import dev.conclab.lab.engine.Verdict;

/** What running a probe gave: its JSON, or why it could not run here. */
public sealed interface ProbeOutcome permits ProbeOutcome.Ran, ProbeOutcome.Unavailable {

    /** The probe ran and printed {@code json}. */
    record Ran(JsonNode json, Interpreter interpreter, double seconds) implements ProbeOutcome {
    }

    /** No suitable interpreter: {@code reason} says what is missing. */
    record Unavailable(String reason) implements ProbeOutcome {

        /** Skips every one of {@code claims} with this reason. */
        public void skip(RunContext ctx, ClaimSpec... claims) {
            for (ClaimSpec claim : claims) {
                ctx.claim(claim, Verdict.skipped(reason));
            }
        }
    }
}
