/**
 * The catalog: the 105 questions, one card per question, loaded from {@code catalog/<section>/<id>.md} and
 * validated as a whole. A card is {@code open} until its answer and its experiments exist; the catalog never
 * shows an open card as answered.
 */
package dev.conclab.lab.catalog;
