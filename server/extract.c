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
  a = archive_read_new();
  if (a == NULL)
    goto out;
  if (f == FORM_ZIP) {
    archive_read_support_format_zip(a);
  } else {
    archive_read_support_format_tar(a);
    if (f == FORM_GZIP)
      archive_read_support_filter_gzip(a);
  }
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
