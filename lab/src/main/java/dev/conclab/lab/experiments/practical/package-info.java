/** Experiments behind the Practical cards (practical-01 … practical-10): code a reader would write at work. */
package dev.conclab.lab.experiments.practical;
