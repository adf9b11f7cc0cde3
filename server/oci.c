/* oci.c: see oci.h. */
#include "oci.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "app.h"
#include "extract.h"
#include "store.h"
#include "util.h"

#define NAME_MAX_BYTES 1024
#define MANIFEST_MAX (1 << 20)
#define MAX_LAYERS 128

/* The entry name N of an archive without "./" or "/" at its start, into OUT; "" for the root itself. */
static void clean_name(const char *n, char *out, size_t size)
{
  while (n[0] == '/' || (n[0] == '.' && n[1] == '/'))
    n += n[0] == '/' ? 1 : 2;
  util_strlcpy(out, n, size);
  size_t len = strlen(out);
  while (len > 0 && out[len - 1] == '/')
    out[--len] = '\0';
  if (strcmp(out, ".") == 0)
    out[0] = '\0';
}

static struct archive *open_tar(const char *path, int *fd)
{
  struct archive *a = archive_read_new();
  *fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (a == NULL || *fd < 0) {
    if (a != NULL)
      archive_read_free(a);
    return NULL;
  }
  archive_read_support_format_tar(a);
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_none(a);
  if (archive_read_open_fd(a, *fd, 65536) != ARCHIVE_OK) {
    archive_read_free(a);
    return NULL;
  }
  return a;
}

/* Removes NAME in the folder fd DIR, whatever it is (a folder with everything under it). */
static void remove_at(int dir, const char *name)
{
  if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
    return;
  int sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub >= 0) {
    extract_empty_dir(sub, 0);
    close(sub);
  }
  unlinkat(dir, name, AT_REMOVEDIR);
}

/* The outer archive: regular files and folders into WORK (links skipped: docker save writes some, pointing at the
 * blobs, which are also there as files). 0, 1 refused, -1 internal. */
static int unpack_outer(const char *archive, const char *work, char *err, size_t errlen)
{
  int fd = -1, root = open(work, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc = 1;
  struct archive *a = open_tar(archive, &fd);
  struct archive_entry *e;
  uint64_t total = 0;
  unsigned entries = 0;
  char name[NAME_MAX_BYTES + 1];
  if (a == NULL || root < 0) {
    snprintf(err, errlen, "the image is not a readable tar archive");
    goto out;
  }
  for (;;) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK || ++entries > 100000) {
      snprintf(err, errlen, "the image archive is damaged or holds too many entries: %.160s", archive_error_string(a));
      goto out;
    }
    clean_name(archive_entry_pathname(e) != NULL ? archive_entry_pathname(e) : "", name, sizeof(name));
    if (name[0] == '\0' || archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != NULL)
      continue;
    const char *why = extract_bad_name(name, NAME_MAX_BYTES);
    if (why != NULL) {
      snprintf(err, errlen, "the image archive: %s", why);
      goto out;
    }
    const char *slash = strrchr(name, '/');
    int dir = extract_open_parent(root, name, slash != NULL ? (size_t)(slash - name) : 0, 0700);
    int out = dir >= 0 ? openat(dir, slash != NULL ? slash + 1 : name,
                                O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)
                       : -1;
    if (dir >= 0)
      close(dir);
    if (out < 0) {
      snprintf(err, errlen, "the image archive holds a path that cannot be written: %.200s", name);
      goto out;
    }
    int w = extract_write_entry(a, out, &total, OCI_MAX_BYTES, err, errlen);
    if (close(out) != 0 && w == 0)
      w = -1;
    if (w != 0) {
      rc = w;
      goto out;
    }
  }
  rc = 0;
out:
  if (a != NULL)
    archive_read_free(a);
  if (fd >= 0)
    close(fd);
  if (root >= 0)
    close(root);
  return rc;
}

/* Reads WORK/REL (at most MANIFEST_MAX bytes) as JSON. */
static json_t *read_json(const char *work, const char *rel, char *sha)
{
  char path[APP_PATH_MAX];
  size_t len = 0;
  if (util_fmt(path, sizeof(path), "%s/%s", work, rel) != 0)
    return NULL;
  char *text = util_read_file(path, MANIFEST_MAX, &len);
  if (text == NULL)
    return NULL;
  if (sha != NULL)
    util_sha256_hex(text, len, sha);
  json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
  free(text);
  return o;
}

/* "sha256:<64 hex>" → "blobs/sha256/<hex>" in OUT, and checks that blob's content has that hash. 0 or 1. */
static int blob(const char *work, const char *digest, char *out, size_t n, char *err, size_t errlen)
{
  char path[APP_PATH_MAX], sha[65];
  if (digest == NULL || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 71 ||
      strspn(digest + 7, "0123456789abcdef") != 64) {
    snprintf(err, errlen, "the image names a blob with a digest that is not sha256:<64 hex digits>");
    return 1;
  }
  if (util_fmt(out, n, "blobs/sha256/%s", digest + 7) != 0 || util_fmt(path, sizeof(path), "%s/%s", work, out) != 0 ||
      util_sha256_file(path, sha, NULL) != 0) {
    snprintf(err, errlen, "the image lacks its blob %.80s", digest);
    return 1;
  }
  if (strcmp(sha, digest + 7) != 0) {
    snprintf(err, errlen, "the image's blob %.80s does not have the content its name says (damaged)", digest);
    return 1;
  }
  return 0;
}

/* The layer files of the image in WORK, in order, into LAYERS (relative paths, N of them), and its identity. */
static int find_layers(const char *work, char layers[][160], int *n, char sha[65], char *err, size_t errlen)
{
  char rel[160];
  json_t *index = read_json(work, "index.json", NULL), *manifest = NULL, *legacy = NULL;
  int rc = 1;
  *n = 0;
  if (index != NULL) { /* an OCI image layout: index.json → (an index →) a manifest → layers */
    json_t *m = json_array_get(json_object_get(index, "manifests"), 0);
    for (int depth = 0; depth < 2 && m != NULL; depth++) {
      if (blob(work, json_string_value(json_object_get(m, "digest")), rel, sizeof(rel), err, errlen) != 0)
        goto out;
      json_decref(manifest);
      manifest = read_json(work, rel, sha);
      if (json_object_get(manifest, "layers") != NULL)
        break;
      size_t i;
      json_t *x, *pick = NULL;
      json_array_foreach(json_object_get(manifest, "manifests"), i, x)
      {
        const char *arch = json_string_value(json_object_get(json_object_get(x, "platform"), "architecture"));
        if (pick == NULL || (arch != NULL && strcmp(arch, "amd64") == 0))
          pick = x;
      }
      m = pick;
    }
    json_t *list = json_object_get(manifest, "layers");
    if (!json_is_array(list)) {
      snprintf(err, errlen, "the image's index.json leads to no manifest with layers");
      goto out;
    }
    size_t i;
    json_t *l;
    json_array_foreach(list, i, l)
    {
      if (*n >= MAX_LAYERS) {
        snprintf(err, errlen, "the image has more than %d layers", MAX_LAYERS);
        goto out;
      }
      if (blob(work, json_string_value(json_object_get(l, "digest")), layers[*n], 160, err, errlen) != 0)
        goto out;
      (*n)++;
    }
    rc = 0;
    goto out;
  }
  legacy = read_json(work, "manifest.json", sha); /* docker save: [{"Config","RepoTags","Layers":[...]}] */
  json_t *list = json_object_get(json_array_get(legacy, 0), "Layers");
  if (!json_is_array(list)) {
    snprintf(err, errlen, "the image has neither index.json (an OCI layout) nor manifest.json (docker save)");
    goto out;
  }
  size_t i;
  json_t *l;
  json_array_foreach(list, i, l)
  {
    const char *p = json_string_value(l);
    char clean[160];
    clean_name(p != NULL ? p : "", clean, sizeof(clean));
    if (p == NULL || *n >= MAX_LAYERS || clean[0] == '\0' || extract_bad_name(clean, 159) != NULL) {
      snprintf(err, errlen, "manifest.json names a layer that is not a plain relative path");
      goto out;
    }
    util_strlcpy(layers[(*n)++], clean, 160);
  }
  rc = 0;
out:
  json_decref(index);
  json_decref(manifest);
  json_decref(legacy);
  return rc;
}

/* Applies one layer (a tar, maybe compressed) into the folder fd ROOT. 0, 1 refused, -1 internal. */
static int apply_layer(const char *path, int root, uint64_t *total, unsigned *entries, char *err, size_t errlen)
{
  int fd = -1, rc = 1, dir = -1;
  struct archive *a = open_tar(path, &fd);
  struct archive_entry *e;
  char name[NAME_MAX_BYTES + 1];
  if (a == NULL) {
    snprintf(err, errlen, "a layer is not a readable tar archive");
    goto out;
  }
  for (;;) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK || ++*entries > OCI_MAX_ENTRIES) {
      snprintf(err, errlen, "a layer is damaged or the image holds more than %u entries", OCI_MAX_ENTRIES);
      goto out;
    }
    clean_name(archive_entry_pathname(e) != NULL ? archive_entry_pathname(e) : "", name, sizeof(name));
    if (name[0] == '\0')
      continue;
    const char *why = extract_bad_name(name, NAME_MAX_BYTES);
    if (why != NULL) {
      snprintf(err, errlen, "a layer: %s (%.100s)", why, name);
      goto out;
    }
    mode_t type = archive_entry_filetype(e);
    const char *slash = strrchr(name, '/'), *leaf = slash != NULL ? slash + 1 : name;
    size_t parent_len = slash != NULL ? (size_t)(slash - name) : 0;
    if (type == AE_IFDIR && archive_entry_hardlink(e) == NULL) {
      int d = extract_open_parent(root, name, strlen(name), 0755);
      if (d < 0) {
        snprintf(err, errlen, "a layer writes through a symlink or over a file: %.200s", name);
        goto out;
      }
      close(d);
      continue;
    }
    dir = extract_open_parent(root, name, parent_len, 0755);
    if (dir < 0) {
      snprintf(err, errlen, "a layer writes through a symlink or over a file: %.200s", name);
      goto out;
    }
    if (strcmp(leaf, ".wh..wh..opq") == 0) { /* an opaque folder: what lower layers put there goes */
      extract_empty_dir(dir, 0);
    } else if (strncmp(leaf, ".wh.", 4) == 0) { /* a whiteout: NAME goes */
      if (leaf[4] != '\0')
        remove_at(dir, leaf + 4);
    } else if (archive_entry_hardlink(e) != NULL) {
      char target[NAME_MAX_BYTES + 1];
      clean_name(archive_entry_hardlink(e), target, sizeof(target));
      const char *ts = strrchr(target, '/');
      int tdir = target[0] != '\0' && extract_bad_name(target, NAME_MAX_BYTES) == NULL
                   ? extract_open_parent(root, target, ts != NULL ? (size_t)(ts - target) : 0, 0755)
                   : -1;
      remove_at(dir, leaf);
      int ok = tdir >= 0 && linkat(tdir, ts != NULL ? ts + 1 : target, dir, leaf, 0) == 0;
      if (tdir >= 0)
        close(tdir);
      if (!ok) {
        snprintf(err, errlen, "a layer links to a file it does not hold: %.200s", name);
        goto out;
      }
    } else if (type == AE_IFLNK) {
      remove_at(dir, leaf);
      if (symlinkat(archive_entry_symlink(e) != NULL ? archive_entry_symlink(e) : "", dir, leaf) != 0) {
        snprintf(err, errlen, "cannot write a link of a layer: %s", strerror(errno));
        rc = -1;
        goto out;
      }
    } else if (type == AE_IFREG) {
      remove_at(dir, leaf);
      /* executable or not, readable by the run's uid; no set-uid, set-gid or sticky bit */
      mode_t mode = (archive_entry_perm(e) & 0111) != 0 ? 0755 : 0644;
      int out = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
      if (out < 0) {
        snprintf(err, errlen, "cannot write a file of a layer: %s", strerror(errno));
        rc = -1;
        goto out;
      }
      int w = extract_write_entry(a, out, total, OCI_MAX_BYTES, err, errlen);
      if ((fchmod(out, mode) != 0 || close(out) != 0) && w == 0)
        w = -1;
      if (w != 0) {
        rc = w;
        goto out;
      }
    } /* devices, FIFOs and sockets are skipped: the sandbox has its own /dev */
    close(dir);
    dir = -1;
  }
  rc = 0;
out:
  if (dir >= 0)
    close(dir);
  if (a != NULL)
    archive_read_free(a);
  if (fd >= 0)
    close(fd);
  return rc;
}

int oci_unpack(const char *archive, const char *work, const char *rootfs, char sha[65], char *err, size_t errlen)
{
  char(*layers)[160] = calloc(MAX_LAYERS, 160);
  char path[APP_PATH_MAX];
  int n = 0, rc = -1, root = -1;
  uint64_t total = 0;
  unsigned entries = 0;
  err[0] = '\0';
  if (layers == NULL)
    goto out;
  rc = unpack_outer(archive, work, err, errlen);
  if (rc == 0)
    rc = find_layers(work, layers, &n, sha, err, errlen);
  if (rc != 0)
    goto out;
  root = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0 || fchmod(root, 0755) != 0) {
    rc = -1;
    goto out;
  }
  for (int i = 0; i < n && rc == 0; i++) {
    if (util_fmt(path, sizeof(path), "%s/%s", work, layers[i]) != 0) {
      rc = -1;
      break;
    }
    rc = apply_layer(path, root, &total, &entries, err, errlen);
  }
  if (rc == 0 && oci_mount_points(rootfs) != 0)
    rc = -1;
out:
  if (root >= 0)
    close(root);
  free(layers);
  return rc;
}

int oci_mount_points(const char *rootfs)
{
  /* the root is bound read-only, so the sandbox's mount points must exist beforehand, as folders */
  static const char *const points[] = {"code", "data", "output", "tmp", "proc", "dev", "sandbox", "ingestion"};
  int root = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc = root >= 0 ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < sizeof(points) / sizeof(points[0]); i++) {
    struct stat st;
    if (fstatat(root, points[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
      remove_at(root, points[i]);
    if (mkdirat(root, points[i], 0755) != 0 && errno != EEXIST)
      rc = -1;
  }
  if (rc == 0) { /* where the host's NVIDIA libraries go for runs with GPUs (gpu.h); not through a symlink */
    static const char nvidia[] = "usr/local/nvidia/lib64";
    int d = extract_open_parent(root, nvidia, sizeof(nvidia) - 1, 0755);
    if (d >= 0)
      close(d);
  }
  if (root >= 0 && (fchmod(root, 0755) != 0 || close(root) != 0))
    rc = -1;
  return rc;
}

int oci_rootfs_path(const char *sha, char *out, size_t n)
{
  char rel[128], done[APP_PATH_MAX];
  struct stat st;
  if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64 ||
      util_fmt(rel, sizeof(rel), "runtimes/%s/complete", sha) != 0 || store_path(done, sizeof(done), rel) != 0 ||
      stat(done, &st) != 0 || util_fmt(rel, sizeof(rel), "runtimes/%s/rootfs", sha) != 0)
    return -1;
  return store_path(out, n, rel);
}

int oci_stage_create(char *tmp, size_t n)
{
  char rnd[32], rel[64];
  if (util_random_token(9, rnd, sizeof(rnd)) != 0 || util_fmt(rel, sizeof(rel), "runtimes/tmp-%s", rnd) != 0 ||
      store_path(tmp, n, rel) != 0 || util_mkdirs(tmp, 0700) != 0 || chmod(tmp, 0755) != 0) {
    if (n > 0)
      tmp[0] = '\0';
    return -1;
  }
  return 0;
}

int oci_install(const char *tmp, const char *sha, char *rootfs, size_t n)
{
  char rel[128], dest[APP_PATH_MAX], mark[APP_PATH_MAX];
  struct stat st;
  if (util_fmt(rel, sizeof(rel), "runtimes/%s", sha) != 0 || store_path(dest, sizeof(dest), rel) != 0 ||
      util_fmt(mark, sizeof(mark), "%s/complete", tmp) != 0)
    return -1;
  /* marked complete before it moves, so that DEST is absent or complete: a complete runtime is never replaced (a run
   * may have it mounted, and another import may have installed the same one meanwhile: then TMP goes) */
  if (util_write_file_atomic(mark, sha, 64, 0644) != 0)
    return -1;
  if (rename(tmp, dest) != 0) {
    if (oci_rootfs_path(sha, rootfs, n) == 0) {
      store_remove_tree(tmp);
      return 0;
    }
    /* an incomplete one, as versions that marked it after the move left when stopped between the two */
    if (stat(dest, &st) != 0)
      return -1;
    store_remove_tree(dest);
    if (rename(tmp, dest) != 0)
      return -1;
  }
  return oci_rootfs_path(sha, rootfs, n);
}

int oci_cached(const char *archive, char sha[65], char *rootfs, size_t n, char *err, size_t errlen)
{
  char rel[128], tmp[APP_PATH_MAX], work[APP_PATH_MAX], root[APP_PATH_MAX], archive_sha[65], known[APP_PATH_MAX];
  int rc = -1;
  tmp[0] = '\0';
  /* the same archive again (every start of a server re-reads its bundles): the identity it had, without unpacking */
  if (util_sha256_file(archive, archive_sha, NULL) != 0 ||
      util_fmt(rel, sizeof(rel), "runtimes/archive-%s", archive_sha) != 0 ||
      store_path(known, sizeof(known), rel) != 0) {
    snprintf(err, errlen, "the image archive cannot be read");
    return 1;
  }
  size_t len = 0;
  char *seen = util_read_file(known, 64, &len);
  if (seen != NULL && len == 64) {
    memcpy(sha, seen, 64);
    sha[64] = '\0';
    free(seen);
    if (oci_rootfs_path(sha, rootfs, n) == 0)
      return 0;
  } else {
    free(seen);
  }
  if (oci_stage_create(tmp, sizeof(tmp)) != 0 || util_fmt(work, sizeof(work), "%s/work", tmp) != 0 ||
      util_fmt(root, sizeof(root), "%s/rootfs", tmp) != 0 || mkdir(work, 0700) != 0 || mkdir(root, 0755) != 0) {
    snprintf(err, errlen, "cannot create a folder under DATA/runtimes: %s", strerror(errno));
    goto out;
  }
  rc = oci_unpack(archive, work, root, sha, err, errlen);
  if (rc != 0)
    goto out;
  rc = -1;
  if (oci_rootfs_path(sha, rootfs, n) != 0) { /* else unpacked before (another challenge, an earlier import) */
    store_remove_tree(work);
    if (oci_install(tmp, sha, rootfs, n) != 0) {
      snprintf(err, errlen, "cannot move the unpacked image into place: %s", strerror(errno));
      goto out;
    }
    tmp[0] = '\0';
  }
  rc = util_write_file_atomic(known, sha, 64, 0644) == 0 ? 0 : -1;
out:
  if (tmp[0] != '\0')
    store_remove_tree(tmp);
  return rc;
}
