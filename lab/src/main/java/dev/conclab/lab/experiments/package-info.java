/**
 * The lab's experiments, one package per section, registered in {@link dev.conclab.lab.experiments.Experiments}.
 *
 * <p>Each experiment reads like a lesson: a prose header, the baseline, the variants (a broken one marked as
 * such beside the correct one), and claims in the card's words, each judged from measured numbers.
 */
package dev.conclab.lab.experiments;
