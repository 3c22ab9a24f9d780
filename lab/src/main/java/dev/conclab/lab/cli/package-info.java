/**
 * The command line ({@code ./conclab}): picocli commands over {@link dev.conclab.lab.Lab}. Exit status 0 when
 * every claim holds, 1 when one fails, 2 on bad usage (an unknown id, experiment or parameter, or a value out of
 * bounds), always with one line that names the bad part and no stack trace.
 */
package dev.conclab.lab.cli;
