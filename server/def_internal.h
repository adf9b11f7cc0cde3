/* def_internal.h: what def.c (the table of challenge.json keys and its walk, the entry points of def.h) and
 * def_rules.c (the rules between keys) share, and only they. */
#ifndef CONCOURS_DEF_INTERNAL_H
#define CONCOURS_DEF_INTERNAL_H

#include "def.h"

/* The rules between D's keys, after the walk filled D from its root (D->root): the data list and the paths, the
 * sample submission and the split column's defaults, the metric and its parameters, secondary metrics, phases, the
 * limits (DEFAULT_WALL_S when they name no wall time) and a code challenge's keys. Problems into P, naming FILE. */
void def_check_rules(struct challenge_def *d, const char *file, int default_wall_s, struct bundle_problems *p);

#endif
