package dev.conclab.lab.web;

/** Small helpers for the words of error messages. Stateless. */
final class Texts {

    private static final int CLIP = 80;

    private Texts() {
    }

    /** {@code text} as typed by a user, cut to {@value #CLIP} characters for an error message. */
    static String clip(String text) {
        return text.length() <= CLIP ? text : text.substring(0, CLIP) + "…";
    }
}
