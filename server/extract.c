/* extract.c: see extract.h. */
#include "extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAX_DEPTH 32

enum form { FORM_NONE = 0, FORM_ZIP, FORM_TAR, FORM_GZIP };

static enum form sniff(int fd)
{
  unsigned char b[512];
  ssize_t n = pread(fd, b, sizeof(b), 0);
  if (n >= 4 && b[0] == 'P' && b[1] == 'K' && ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6)))
    return FORM_ZIP;
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
    return FORM_GZIP;
  if (n >= 262 && memcmp(b + 257, "ustar", 5) == 0)
    return FORM_TAR;
  return FORM_NONE;
}

/* A libarchive reader for the form F alone (zip, or tar with gzip when F says so), or NULL. */
static struct archive *reader(enum form f)
{
  struct archive *a = archive_read_new();
  if (a == NULL)
    return NULL;
  if (f == FORM_ZIP) {
    archive_read_support_format_zip(a);
  } else {
    archive_read_support_format_tar(a);
    if (f == FORM_GZIP)
      archive_read_support_filter_gzip(a);
  }
  return a;
}

int extract_has_file(const char *path, const char *name)
{
  struct archive *a = NULL;
  struct archive_entry *e;
  char top[256] = "";
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), at_root = 0, in_top = 0, one_top = 1, rc = -1;
  size_t n = strlen(name);
  enum form f = fd >= 0 ? sniff(fd) : FORM_NONE;
  if (f == FORM_NONE || (a = reader(f)) == NULL || archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK)
    goto out;
  for (unsigned entries = 0; entries < 100000; entries++) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) {
      rc = at_root || (one_top && in_top);
      break;
    }
    if (r != ARCHIVE_OK)
      break;
    const char *p = archive_entry_pathname(e);
    if (p == NULL)
      continue;
    while (p[0] == '.' && p[1] == '/')
      p += 2;
    const char *slash = strchr(p, '/');
    size_t seg = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (slash == NULL && archive_entry_filetype(e) != AE_IFDIR) { /* a file at the top: no lone top folder */
      one_top = 0;
      at_root |= strcmp(p, name) == 0;
    } else if (seg > 0 && seg < sizeof(top)) {
      if (top[0] == '\0')
        memcpy(top, p, seg);
      else if (strlen(top) != seg || strncmp(top, p, seg) != 0)
        one_top = 0;
      in_top |= slash != NULL && strncmp(slash + 1, name, n) == 0 && (slash[1 + n] == '\0');
    }
  }
out:
  if (a != NULL)
    archive_read_free(a);
  if (fd >= 0)
    close(fd);
  return rc;
}

int extract_is_archive(const char *path, int *gzip)
{
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return 0;
  enum form f = sniff(fd);
  close(fd);
  if (gzip != NULL)
    *gzip = f == FORM_GZIP;
  return f != FORM_NONE;
}

/* 1 when S (LEN bytes) is valid UTF-8 without control characters. */
static int clean_utf8(const unsigned char *s, size_t len)
{
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    size_t extra;
    uint32_t cp;
    if (c < 0x20 || c == 0x7f)
      return 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return 0;
    }
    for (size_t k = 1; k <= extra; k++) {
      if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
      return 0;
    i += extra + 1;
  }
  return 1;
}

/* Checks an entry name; returns NULL when acceptable, else why not. */
const char *extract_bad_name(const char *name, size_t max)
{
  size_t len = strlen(name);
  if (len == 0)
    return "an entry has an empty name";
  if (len > max)
    return "an entry name is too long";
  if (name[0] == '/')
    return "an entry name is an absolute path";
  if (strchr(name, '\\') != NULL || strchr(name, ':') != NULL)
    return "an entry name holds a backslash or a colon";
  if (!clean_utf8((const unsigned char *)name, len))
    return "an entry name is not valid UTF-8 or holds control characters";
  const char *seg = name;
  for (size_t i = 0; i <= len; i++) {
    if (name[i] != '/' && name[i] != '\0')
      continue;
    size_t n = (size_t)(name + i - seg);
    if ((n == 0 && name[i] != '\0') || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
      return "an entry name holds an empty, \".\" or \"..\" segment";
    seg = name + i + 1;
  }
  return NULL;
}

/* Opens (creating when missing) the folder chain of the N-byte prefix of NAME under ROOT, never through a
 * symlink. Returns a directory fd the caller closes, or -1. */
int extract_open_parent(int root, const char *name, size_t n, int dir_mode)
{
  char seg[256];
  int fd = dup(root), depth = 0;
  size_t i = 0;
  while (fd >= 0 && i < n) {
    size_t j = i;
    while (j < n && name[j] != '/')
      j++;
    if (j - i >= sizeof(seg) || ++depth > MAX_DEPTH) {
      close(fd);
      return -1;
    }
    memcpy(seg, name + i, j - i);
    seg[j - i] = '\0';
    if (mkdirat(fd, seg, (mode_t)dir_mode) != 0 && errno != EEXIST) {
      close(fd);
      return -1;
    }
    int next = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(fd);
    fd = next;
    if (fd >= 0 && fchmod(fd, (mode_t)dir_mode) != 0) {
      close(fd);
      return -1;
    }
    i = j + 1;
  }
  return fd;
}

/* Removes everything under the folder fd DIRFD (no symlink followed). */
void extract_empty_dir(int dirfd, int depth)
{
  DIR *d = fdopendir(dup(dirfd));
  struct dirent *e;
  if (d == NULL)
    return;
  for (e = readdir(d); e != NULL; e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (unlinkat(dirfd, e->d_name, 0) == 0)
      continue;
    int sub = depth < MAX_DEPTH + 2 ? openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (sub >= 0) {
      extract_empty_dir(sub, depth + 1);
      close(sub);
    }
    unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
  }
  closedir(d);
}

int extract_write_entry(struct archive *a, int fd, uint64_t *total, uint64_t max, char *err, size_t errlen)
{
  /* 16 KiB, not more: bundle archives are unpacked in CivetWeb worker threads, whose stacks are 100 KiB */
  char buf[16384];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
    if (n == 0)
      return 0;
    if (n < 0) {
      snprintf(err, errlen, "the archive is damaged: %.200s", archive_error_string(a));
      return 1;
    }
    *total += (uint64_t)n;
    if (*total > max) {
      snprintf(err, errlen, "the archive unpacks to more than %llu bytes", (unsigned long long)max);
      return 1;
    }
    for (la_ssize_t off = 0; off < n;) {
      ssize_t w = write(fd, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        snprintf(err, errlen, "cannot write an unpacked file: %s", strerror(errno));
        return -1;
      }
      off += w;
    }
  }
}

int extract_archive(const char *archive_path, const char *dest_dir, const struct extract_limits *lim, char *err,
                    size_t errlen)
{
  struct archive *a = NULL;
  struct archive_entry *e;
  int fd = -1, root = -1, rc = -1;
  unsigned entries = 0;
  uint64_t total = 0;
  err[0] = '\0';
  fd = open(archive_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  root = open(dest_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || root < 0) {
    snprintf(err, errlen, "cannot open %s: %s", fd < 0 ? "the archive" : "the destination", strerror(errno));
    goto out;
  }
  enum form f = sniff(fd);
  if (f == FORM_NONE) {
    snprintf(err, errlen, "the file is not a zip, tar or tar.gz archive");
    rc = 1;
    goto out;
  }
  a = reader(f);
  if (a == NULL)
    goto out;
  if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
    snprintf(err, errlen, "the archive cannot be read: %.200s", archive_error_string(a));
    rc = 1;
    goto out;
  }
  for (;;) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK) {
      snprintf(err, errlen, "the archive is damaged or not a %s archive: %.160s",
               f == FORM_ZIP   ? "zip"
               : f == FORM_TAR ? "tar"
                               : "tar.gz",
               archive_error_string(a));
      rc = 1;
      goto out;
    }
    if (++entries > lim->max_entries) {
      snprintf(err, errlen, "the archive holds more than %u entries", lim->max_entries);
      rc = 1;
      goto out;
    }
    const char *name = archive_entry_pathname(e);
    const char *why = name != NULL ? extract_bad_name(name, lim->max_name) : "an entry has no name";
    mode_t type = archive_entry_filetype(e);
    if (why == NULL && (archive_entry_hardlink(e) != NULL || archive_entry_symlink(e) != NULL ||
                        (type != AE_IFREG && type != AE_IFDIR)))
      why = "the archive holds a link, device or FIFO; only regular files and folders are accepted";
    if (why != NULL) {
      snprintf(err, errlen, "%s", why);
      rc = 1;
      goto out;
    }
    size_t len = strlen(name);
    while (len > 0 && name[len - 1] == '/')
      len--;
    const char *slash = memrchr(name, '/', len);
    size_t parent_len = slash != NULL ? (size_t)(slash - name) : 0;
    int dir = extract_open_parent(root, name, type == AE_IFDIR ? len : parent_len, lim->dir_mode);
    if (dir < 0) {
      snprintf(err, errlen, "an entry's folder cannot be created (a file of the same name, or too deep)");
      rc = 1;
      goto out;
    }
    if (type == AE_IFDIR) {
      close(dir);
      continue;
    }
    char leaf[256];
    snprintf(leaf, sizeof(leaf), "%.*s", (int)(len - (slash != NULL ? parent_len + 1 : 0)),
             slash != NULL ? slash + 1 : name);
    int out = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)lim->file_mode);
    if (out < 0 && errno == EEXIST && lim->later_entry_wins && unlinkat(dir, leaf, 0) == 0) /* never a folder */
      out = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)lim->file_mode);
    close(dir);
    if (out < 0) {
      snprintf(err, errlen, errno == EEXIST ? "the archive holds the same entry twice" : "cannot write an entry");
      rc = errno == EEXIST ? 1 : -1;
      goto out;
    }
    int w = extract_write_entry(a, out, &total, lim->max_bytes, err, errlen);
    if (fchmod(out, (mode_t)lim->file_mode) != 0 || close(out) != 0) {
      if (w == 0)
        snprintf(err, errlen, "cannot write an entry: %s", strerror(errno));
      w = w == 0 ? -1 : w;
    }
    if (w != 0) {
      rc = w;
      goto out;
    }
  }
  rc = 0;
out:
  if (a != NULL)
    archive_read_free(a);
  if (rc != 0 && root >= 0)
    extract_empty_dir(root, 0);
  if (root >= 0)
    close(root);
  if (fd >= 0)
    close(fd);
  return rc;
}

/* ------------------------------------------------------------------------------------------ packing */

#define PACK_DEPTH 16

/* extract_pack_dir's walk: the archive written, the files packed (-1 after an error), their bytes, and the cap. */
struct pack {
  struct archive *a;
  long files;
  long long bytes;
  unsigned entries, max_entries;
};

/* Writes the regular file PATH as the entry REL of A, never through a symlink. 1 when packed, 0 when it is not a
 * regular file (left out), -1 on a read or write error. */
static int pack_file(struct archive *a, const char *path, const char *rel, long long *bytes)
{
  static char buf[65536];
  struct stat st;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return errno == ELOOP || errno == ENXIO ? 0 : -1;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return 0;
  }
  struct archive_entry *e = archive_entry_new();
  int rc = e != NULL ? 1 : -1;
  if (e != NULL) {
    archive_entry_set_pathname(e, rel);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, st.st_size);
    archive_entry_set_mtime(e, st.st_mtime, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK)
      rc = -1;
  }
  long long left = st.st_size; /* the size written in the header: a file that grows or shrinks is cut or padded */
  while (rc == 1 && left > 0) {
    ssize_t r = read(fd, buf, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      memset(buf, 0, sizeof(buf));
      r = left < (long long)sizeof(buf) ? (ssize_t)left : (ssize_t)sizeof(buf);
    }
    if (archive_write_data(a, buf, (size_t)r) != r)
      rc = -1;
    left -= r;
    *bytes += r;
  }
  archive_entry_free(e);
  close(fd);
  return rc;
}

/* util_walk's visit: folders past PACK_DEPTH are not entered, entries past the cap are left out, regular files are
 * packed (util_walk never follows a link; links, FIFOs and devices are left out). */
static int pack_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  struct pack *k = arg;
  if (++k->entries > k->max_entries)
    return S_ISDIR(st->st_mode) ? UTIL_WALK_PRUNE : 0;
  if (S_ISDIR(st->st_mode)) {
    int depth = 1;
    for (const char *c = rel; *c != '\0'; c++)
      depth += *c == '/';
    return depth >= PACK_DEPTH ? UTIL_WALK_PRUNE : 0;
  }
  if (!S_ISREG(st->st_mode))
    return 0;
  int rc = pack_file(k->a, path, rel, &k->bytes);
  if (rc < 0)
    return -1;
  k->files += rc;
  return 0;
}

long extract_pack_dir(const char *folder, int dst, unsigned max_entries, long long *bytes)
{
  struct pack k = {archive_write_new(), 0, 0, 0, max_entries};
  if (k.a == NULL || archive_write_set_format_pax_restricted(k.a) != ARCHIVE_OK ||
      archive_write_open_fd(k.a, dst) != ARCHIVE_OK ||
      util_walk(folder, PACK_DEPTH + 1, (long)max_entries * 16 + 1024, pack_entry, &k) != 0 ||
      archive_write_close(k.a) != ARCHIVE_OK)
    k.files = -1;
  if (k.a != NULL)
    archive_write_free(k.a);
  *bytes = k.bytes;
  return k.files;
}
