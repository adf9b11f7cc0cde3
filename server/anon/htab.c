/* htab.c: an exact, byte-keyed, insert-only hash table for the anonymity check.
 *
 * k-anonymity and l-diversity must be computed exactly, so equivalence classes are keyed by the stored bytes
 * of their quasi-identifier values, not by a hash alone. Open addressing with linear probing; keys live in
 * one growing arena. Memory grows with the number of distinct classes, never with the file size alone.
 */
#include <stdlib.h>
#include <string.h>

#include "anon_internal.h"

#define MAX_ENTRIES ((size_t)1 << 31)

static uint64_t hash_bytes(const void *key, size_t len)
{
  const unsigned char *p = key;
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then a final mix so low bits are usable */

  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

static int grow_slots(struct anon_htab *h)
{
  size_t n = h->n_slots == 0 ? 1024 : h->n_slots * 2;
  uint32_t *slots = calloc(n, sizeof(*slots));

  if (slots == NULL)
    return -1;
  for (size_t i = 0; i < h->n_entries; i++) {
    size_t s = (size_t)h->entries[i].hash & (n - 1);

    while (slots[s] != 0)
      s = (s + 1) & (n - 1);
    slots[s] = (uint32_t)(i + 1);
  }
  free(h->slots);
  h->slots = slots;
  h->n_slots = n;
  return 0;
}

static int reserve(void **p, size_t *cap, size_t need, size_t elem)
{
  size_t n = *cap == 0 ? 256 : *cap;
  void *q;

  if (need <= *cap)
    return 0;
  while (n < need)
    n *= 2;
  q = realloc(*p, n * elem);
  if (q == NULL)
    return -1;
  *p = q;
  *cap = n;
  return 0;
}

long anon_htab_upsert(struct anon_htab *h, const void *key, size_t len, int *is_new)
{
  uint64_t hash = hash_bytes(key, len);
  struct anon_hentry *e;
  size_t s;

  *is_new = 0;
  if (len > UINT32_MAX)
    return -1;
  /* Keep the load under 3/4 so probing always ends; growing before the lookup keeps the slot found valid. */
  if ((h->n_slots == 0 || (h->n_entries + 1) * 4 > h->n_slots * 3) && grow_slots(h) != 0)
    return -1;
  s = (size_t)hash & (h->n_slots - 1);
  while (h->slots[s] != 0) {
    e = &h->entries[h->slots[s] - 1];
    if (e->hash == hash && e->key_len == len && memcmp(h->keys + e->key_off, key, len) == 0)
      return (long)(h->slots[s] - 1);
    s = (s + 1) & (h->n_slots - 1);
  }
  if (h->n_entries >= MAX_ENTRIES - 1)
    return -1;
  if (reserve((void **)&h->entries, &h->cap_entries, h->n_entries + 1, sizeof(*h->entries)) != 0)
    return -1;
  if (reserve((void **)&h->keys, &h->keys_cap, h->keys_len + len + 1, 1) != 0)
    return -1;
  e = &h->entries[h->n_entries];
  e->hash = hash;
  e->key_off = h->keys_len;
  e->key_len = (uint32_t)len;
  e->distinct = 0;
  e->count = 0;
  if (len > 0)
    memcpy(h->keys + h->keys_len, key, len);
  h->keys_len += len;
  h->slots[s] = (uint32_t)(h->n_entries + 1);
  h->n_entries++;
  *is_new = 1;
  return (long)(h->n_entries - 1);
}

void anon_htab_free(struct anon_htab *h)
{
  free(h->slots);
  free(h->entries);
  free(h->keys);
  memset(h, 0, sizeof(*h));
}
