/*
 * score_gen.c: writes seeded synthetic ground truth and prediction files for scripts/bench/score.sh.
 *
 * Usage: score_gen binary|multi ROWS SEED TRUTH.csv PRED.csv [shuffle|inorder] [full|exp]
 * binary: truth id,label,Usage (0/1, 30 % public), prediction id,label (probability, 6 decimals).
 * multi: 5 classes, truth id,label,Usage, prediction id,0,1,2,3,4 (probabilities summing to ~1).
 * With "shuffle", the prediction rows are in a random order (exercises the hash join). With "full", 17 significant
 * digits instead of 6 decimals. With "exp", 17 significant digits of probabilities spread over many decades, as a
 * confident model's are: binary log-uniform from 1e-8 to 1 (1e-6 for positives), multi the softmax of normal
 * logits (standard deviation 4, the label's 2 higher); C's %.17g, like Python's repr() and pandas, writes those
 * below 1e-4 with an exponent (5.6551196876414886e-05): about half the rows have one.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state;

static uint64_t next(void)
{
  uint64_t z = (state += UINT64_C(0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static double uniform(void)
{
  return (double)(next() >> 11) / 9007199254740992.0;
}

/* A standard normal draw (Box-Muller). */
static double normal(void)
{
  return sqrt(-2.0 * log(1.0 - uniform())) * cos(6.283185307179586 * uniform());
}

int main(int argc, char **argv)
{
  FILE *t;
  FILE *p;
  size_t n;
  size_t i;
  int multi;
  int full;
  int spread;
  uint32_t *order = NULL;
  uint8_t *label = NULL;

  if (argc < 6) {
    fprintf(stderr, "usage: score_gen binary|multi ROWS SEED TRUTH PRED [shuffle|inorder] [full|exp]\n"
                    "  full: probabilities with 17 significant digits (what pandas' to_csv writes), not 6 decimals\n"
                    "  exp: the same over many decades, half the rows with an exponent (a softmax's output)\n");
    return 2;
  }
  multi = strcmp(argv[1], "multi") == 0;
  spread = argc > 7 && strcmp(argv[7], "exp") == 0;
  full = spread || (argc > 7 && strcmp(argv[7], "full") == 0);
  n = strtoull(argv[2], NULL, 10);
  state = strtoull(argv[3], NULL, 10);
  t = fopen(argv[4], "w");
  p = fopen(argv[5], "w");
  order = malloc(n * sizeof *order);
  label = malloc(n);
  if (!t || !p || !order || !label) {
    perror("score_gen");
    return 1;
  }
  fputs("id,label,Usage\n", t);
  fputs(multi ? "id,0,1,2,3,4\n" : "id,label\n", p);
  for (i = 0; i < n; i++) {
    label[i] = (uint8_t)(multi ? next() % 5 : next() % 2);
    fprintf(t, "id_%09zu,%u,%s\n", i, label[i], uniform() < 0.3 ? "Public" : "Private");
    order[i] = (uint32_t)i;
  }
  if (argc > 6 && strcmp(argv[6], "shuffle") == 0) {
    for (i = n; i > 1; i--) {
      size_t j = next() % i;
      uint32_t tmp = order[i - 1];

      order[i - 1] = order[j];
      order[j] = tmp;
    }
  }
  for (i = 0; i < n; i++) {
    size_t r = order[i];

    if (!multi) {
      double v = spread ? pow(10.0, -(label[r] ? 6.0 : 8.0) * uniform()) : 0.6 * uniform() + 0.4 * label[r] * uniform();

      fprintf(p, full ? "id_%09zu,%.17g\n" : "id_%09zu,%.6f\n", r, v);
    } else {
      double w[5];
      double s = 0;
      int k;

      for (k = 0; k < 5; k++) {
        w[k] = spread ? exp(4.0 * normal() + (k == label[r] ? 2.0 : 0.0)) : uniform() + (k == label[r] ? 0.5 : 0.0);
        s += w[k];
      }
      fprintf(p, full ? "id_%09zu,%.17g,%.17g,%.17g,%.17g,%.17g\n" : "id_%09zu,%.6f,%.6f,%.6f,%.6f,%.6f\n", r, w[0] / s,
              w[1] / s, w[2] / s, w[3] / s, w[4] / s);
    }
  }
  if (fclose(t) != 0 || fclose(p) != 0) {
    perror("score_gen");
    return 1;
  }
  free(order);
  free(label);
  return 0;
}
