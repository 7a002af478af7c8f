/* classroot.h - where an exploded copy of Log4j is rooted, told from the
 * names of its class files alone, whatever package it was relocated to.
 *
 * For trees read name by name (a directory walk, a tarball's members),
 * where the detector cannot be handed "every entry" as it is for a zip.
 * The detector asks about a fixed set of classes, each relative to a copy's
 * package root: the rules' classes (fingerprints, markers, the classes
 * whose presence or absence changes a CVE) and Log4j 1.x's anchors
 * (Category, helpers/OptionConverter).  A class file whose path ends with
 * one of them at a path boundary belongs to the copy rooted at the part
 * before: ".../com/acme/shaded/log4j/core/lookup/JndiLookup.class" to
 * ".../com/acme/shaded/log4j/core/".  Anchors (a fingerprinted log4j-core
 * class, 1.x's Category) are the classes whose presence makes a root worth
 * running the detector on. */
#ifndef L4S_CLASSROOT_H
#define L4S_CLASSROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/rules.h"

struct classroots;

struct classroots *classroots_new(const struct rules *r);
void classroots_free(struct classroots *c);

/* For a class file name (".class", ".esclazz", ".classdata"), the length of
 * its root part (up to and with the '/' before the class's package path)
 * when it is one of the detector's classes; -1 otherwise.  *anchor: it is
 * an anchor. */
long classroot_of(const struct classroots *c, const char *name, size_t len, bool *anchor);

#endif
