/* dicom.c: the anonymity check of DICOM files, read by DCMTK (Debian package dcmtk).
 *
 * The file is not parsed here: DCMTK's dcmdump reads it (-M: very long values such as pixel data are not
 * loaded; +L: other values in full; +U8: converted to UTF-8) and prints one element per line,
 *   (0010,0010) PN [DUPONT^JEAN]   #  12, 1 PatientName
 * which this module reads. A non-empty attribute of the DICOM PS3.15 Annex E basic confidentiality profile that
 * identifies a person, a place or a visit fails the file (fix: strip, or pseudonymize for PatientID); private
 * elements (odd groups) fail it; BurnedInAnnotation = YES fails it (text in the pixels); dates, UIDs and the
 * patient's age, sex, size and weight are named in warnings (the profile's options may keep them). Every text
 * value is also scanned with the value rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "anon_internal.h"

#define DUMP_MAX ((size_t)64 << 20)

/* Attributes of the basic profile that identify the patient, a person, a place or a visit. */
static const char *const identifying[] = {"PatientName",
                                          "PatientID",
                                          "PatientBirthDate",
                                          "PatientBirthTime",
                                          "PatientAddress",
                                          "PatientTelephoneNumbers",
                                          "OtherPatientIDs",
                                          "OtherPatientNames",
                                          "PatientBirthName",
                                          "PatientMotherBirthName",
                                          "MedicalRecordLocator",
                                          "MilitaryRank",
                                          "BranchOfService",
                                          "PatientReligiousPreference",
                                          "AdditionalPatientHistory",
                                          "PatientComments",
                                          "EthnicGroup",
                                          "Occupation",
                                          "IssuerOfPatientID",
                                          "ResponsiblePerson",
                                          "ResponsibleOrganization",
                                          "ReferringPhysicianName",
                                          "ReferringPhysicianAddress",
                                          "ReferringPhysicianTelephoneNumbers",
                                          "PerformingPhysicianName",
                                          "NameOfPhysiciansReadingStudy",
                                          "OperatorsName",
                                          "PhysiciansOfRecord",
                                          "RequestingPhysician",
                                          "ScheduledPerformingPhysicianName",
                                          "ConsultingPhysicianName",
                                          "ContentCreatorName",
                                          "PersonName",
                                          "VerifyingObserverName",
                                          "ReviewerName",
                                          "InstitutionName",
                                          "InstitutionAddress",
                                          "InstitutionalDepartmentName",
                                          "StationName",
                                          "DeviceSerialNumber",
                                          "AccessionNumber",
                                          "StudyID",
                                          "RequestedProcedureID",
                                          "AdmissionID",
                                          "CurrentPatientLocation",
                                          "PatientState",
                                          "ImageComments",
                                          "StudyDescription",
                                          "SeriesDescription",
                                          "RequestAttributesSequence",
                                          "DerivationDescription",
                                          "TextString",
                                          "PerformedProcedureStepID",
                                          "ScheduledProcedureStepID",
                                          "PlacerOrderNumberImagingServiceRequest",
                                          "FillerOrderNumberImagingServiceRequest",
                                          "PatientInsurancePlanCodeSequence",
                                          "CountryOfResidence",
                                          "RegionOfResidence",
                                          "PatientTelecomInformation",
                                          NULL};

/* Kept by some options of the profile: named in a warning. */
static const char *const quasi[] = {"PatientAge",          "PatientSex",
                                    "PatientSize",         "PatientWeight",
                                    "StudyDate",           "SeriesDate",
                                    "AcquisitionDate",     "ContentDate",
                                    "AcquisitionDateTime", "StudyInstanceUID",
                                    "SeriesInstanceUID",   "SOPInstanceUID",
                                    "FrameOfReferenceUID", NULL};

static int in(const char *const *list, const char *s)
{
  for (size_t i = 0; list[i] != NULL; i++) {
    if (strcmp(list[i], s) == 0)
      return 1;
  }
  return 0;
}

/* Runs dcmdump on path; returns its output (NUL-terminated, caller frees) or NULL with err filled. */
static char *run_dcmdump(const char *path, const char *name, char *err, size_t errlen)
{
  int pipefd[2], status = 0;
  size_t len = 0, cap = 65536;
  char *out = malloc(cap);
  pid_t pid;

  if (out == NULL || pipe2(pipefd, O_CLOEXEC) != 0) {
    free(out);
    anon_errf(err, errlen, "%s: cannot start dcmdump", name);
    return NULL;
  }
  pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

    (void)dup2(pipefd[1], 1);
    if (devnull >= 0)
      (void)dup2(devnull, 2);
    /* dcmdump has no "--": a path starting with '-' is passed as "./-..." by the caller */
    execlp("dcmdump", "dcmdump", "-q", "-M", "+L", "-Un", "+U8", path, (char *)NULL);
    _exit(127);
  }
  (void)close(pipefd[1]);
  if (pid < 0) {
    (void)close(pipefd[0]);
    free(out);
    anon_errf(err, errlen, "%s: cannot start dcmdump: %s", name, strerror(errno));
    return NULL;
  }
  for (;;) {
    ssize_t n;

    if (len + 1 >= cap && cap < DUMP_MAX) {
      char *bigger = realloc(out, cap * 2);

      if (bigger == NULL)
        break;
      out = bigger;
      cap *= 2;
    }
    if (len + 1 >= cap) {
      (void)kill(pid, SIGKILL); /* the rest is not read: the dump is too large to check */
      break;
    }
    n = read(pipefd[0], out + len, cap - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  (void)close(pipefd[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  out[len] = '\0';
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    anon_errf(err, errlen, "%s: dcmdump (Debian package dcmtk) is not installed: DICOM files cannot be checked", name);
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    anon_errf(err, errlen, "%s: not a readable DICOM file (dcmdump failed, or its output passed %zu bytes)", name,
              DUMP_MAX);
  } else {
    return out;
  }
  free(out);
  return NULL;
}

/* Reads one dcmdump line: group, element, keyword and value (borrowed from line, which is modified). */
static int parse_line(char *line, unsigned *group, unsigned *elem, const char **keyword, char **value, size_t *vlen)
{
  char *hash, *open, *close, *p = line;

  while (*p == ' ')
    p++;
  if (sscanf(p, "(%4x,%4x)", group, elem) != 2)
    return -1;
  hash = strrchr(p, '#');
  if (hash == NULL)
    return -1;
  *keyword = strrchr(hash, ' ') != NULL ? strrchr(hash, ' ') + 1 : "";
  *hash = '\0';
  open = strchr(p, '[');
  close = strrchr(p, ']');
  if (open == NULL || close == NULL || close < open) {
    *value = NULL;
    *vlen = 0;
    return 0;
  }
  *close = '\0';
  *value = open + 1;
  *vlen = (size_t)(close - open - 1);
  return 0;
}

int anon_check_dicom(const char *path, const char *name, json_t **report, char *err, size_t errlen)
{
  char safe[4096], *dump = NULL, *line, *next, where[160], msg[256];
  json_t *rep = anon_report_new(name, "dicom"), *warned = json_object();
  unsigned long long private_elems = 0;
  int burned = 0, rc = ANON_ERROR;

  if (snprintf(safe, sizeof(safe), "%s%s", path[0] == '-' ? "./" : "", path) >= (int)sizeof(safe)) {
    anon_errf(err, errlen, "%s: path too long", name);
    goto out;
  }
  dump = run_dcmdump(safe, name, err, errlen);
  if (dump == NULL)
    goto out;
  if (rep == NULL || warned == NULL) {
    anon_errf(err, errlen, "%s: out of memory", name);
    goto out;
  }
  for (line = dump; line != NULL && *line != '\0'; line = next) {
    unsigned group, elem;
    const char *keyword;
    char *value;
    size_t vlen;

    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (parse_line(line, &group, &elem, &keyword, &value, &vlen) != 0 || group == 0x0002)
      continue;
    if (group % 2 == 1 && elem >= 0x1000) { /* a private element (its creator elements are 0x0010-0x00FF) */
      private_elems++;
      continue;
    }
    if (strncmp(keyword, "RETIRED_", 8) == 0)
      keyword += 8;
    if (value == NULL || vlen == 0)
      continue;
    if (strcmp(keyword, "BurnedInAnnotation") == 0 && strncmp(value, "YES", 3) == 0)
      burned = 1;
    (void)snprintf(where, sizeof(where), "(%04X,%04X) %.64s", group, elem, keyword);
    if (in(identifying, keyword) &&
        !(anon_value_scan(value, vlen, NULL) & (ANON_V_HEX_TOKEN | ANON_V_B64_TOKEN))) { /* a pseudonym is fine */
      json_t *e = json_pack("{s:s, s:s, s:i, s:s}", "column", where, "rule", "dicom:basic_profile", "count", 1, "fix",
                            strcmp(keyword, "PatientID") == 0 ? "pseudonymize" : "strip");

      if (e == NULL || json_array_append_new(json_object_get(rep, "direct_identifiers"), e) != 0 ||
          json_object_set_new(rep, "passed", json_false()) != 0)
        goto oom;
    } else if (in(quasi, keyword) && json_object_get(warned, keyword) == NULL) {
      (void)snprintf(msg, sizeof(msg),
                     "%.64s is kept: a quasi-identifier (or, for UIDs, a link to the source "
                     "archive) unless the profile's options allow it",
                     keyword);
      if (json_object_set_new(warned, keyword, json_true()) != 0 ||
          json_array_append_new(json_object_get(rep, "warnings"), json_string(msg)) != 0)
        goto oom;
    }
    if (anon_scan_text_field(rep, where, value, vlen) != 0)
      goto oom;
  }
  if (private_elems > 0) {
    json_t *e = json_pack("{s:s, s:s, s:I, s:s}", "column", "private elements", "rule", "dicom:private_tags", "count",
                          (json_int_t)private_elems, "fix", "strip");

    if (e == NULL || json_array_append_new(json_object_get(rep, "direct_identifiers"), e) != 0 ||
        json_object_set_new(rep, "passed", json_false()) != 0)
      goto oom;
  }
  if (burned && json_array_append_new(json_object_get(rep, "failures"),
                                      json_string("BurnedInAnnotation is YES: the pixels hold identifying text")) != 0)
    goto oom;
  if (burned && json_object_set_new(rep, "passed", json_false()) != 0)
    goto oom;
  if (json_array_size(json_object_get(rep, "direct_identifiers")) > 0 &&
      json_array_append_new(json_object_get(rep, "failures"),
                            json_string("identifying DICOM attributes (apply the PS3.15 basic profile)")) != 0)
    goto oom;
  *report = rep;
  rep = NULL;
  rc = json_is_true(json_object_get(*report, "passed")) ? ANON_PASS : ANON_FAIL;
  goto out;
oom:
  anon_errf(err, errlen, "%s: out of memory", name);
out:
  free(dump);
  json_decref(rep);
  json_decref(warned);
  return rc;
}

/* ---- de-identification (PS3.15 basic profile, through dcmodify) ---- */

/* Type 2 attributes of the profile: they must stay present, so they are emptied rather than removed. */
static const char *const blanked[] = {"PatientBirthDate", "ReferringPhysicianName", "AccessionNumber", "StudyID", NULL};
/* Replaced by the pseudonym. */
static const char *const pseudonymized[] = {"PatientName", "PatientID", NULL};
/* Remapped with the key. */
static const char *const remapped_uids[] = {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                                            "FrameOfReferenceUID", NULL};

#define MAX_ARGS 320
#define ARG_BYTES 160

struct args {
  const char *v[MAX_ARGS + 1];
  char store[MAX_ARGS][ARG_BYTES];
  int n;
};

/* Appends "name" or "name=value" (value may be NULL). Returns 0, or -1 when the list or the argument is full. */
static int arg(struct args *a, const char *name, const char *value)
{
  int n = value != NULL ? snprintf(a->store[a->n], ARG_BYTES, "%s=%s", name, value)
                        : snprintf(a->store[a->n], ARG_BYTES, "%s", name);

  if (a->n >= MAX_ARGS || n < 0 || n >= ARG_BYTES)
    return -1;
  a->v[a->n] = a->store[a->n];
  a->v[++a->n] = NULL;
  return 0;
}

/* Runs argv (a DCMTK tool) and waits. Returns its exit status, or -1 when it could not run. */
static int run_tool(const char *const *argv)
{
  int status = 0;
  pid_t pid = fork();

  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

    if (devnull >= 0) {
      (void)dup2(devnull, 1);
      (void)dup2(devnull, 2);
    }
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  if (pid < 0)
    return -1;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int copy_file(const char *from, int to_fd)
{
  char buf[65536];
  int fd = open(from, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return -1;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    if (write(to_fd, buf, (size_t)n) != n) {
      n = -1;
      break;
    }
  }
  (void)close(fd);
  return n == 0 ? 0 : -1;
}

/* A DA value YYYYMMDD shifted by days into out (9 bytes). Returns 0, or -1 when it is not such a date. */
static int shift_da(const char *v, size_t len, long days, char out[9])
{
  int y, m, d;

  if (len != 8 || sscanf(v, "%4d%2d%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
    return -1;
  anon_civil_from_days(anon_days_from_civil(y, m, d) + days, &y, &m, &d);
  return snprintf(out, 9, "%04d%02d%02d", y, m, d) == 8 ? 0 : -1;
}

/* The top-level value of keyword in the dump (lines starting with '('), copied into out; 0 if found. */
static int top_value(const char *dump, const char *keyword, char *out, size_t outlen)
{
  size_t klen = strlen(keyword);

  for (const char *line = dump; line != NULL && *line != '\0';) {
    const char *end = strchr(line, '\n'), *hash, *open, *close;
    size_t len = end != NULL ? (size_t)(end - line) : strlen(line);

    hash = memrchr(line, '#', len);
    if (line[0] == '(' && hash != NULL && len - (size_t)(hash - line) > klen &&
        memcmp(line + len - klen, keyword, klen) == 0 && line[len - klen - 1] == ' ') {
      open = memchr(line, '[', (size_t)(hash - line));
      close = open != NULL ? memrchr(open, ']', (size_t)(hash - open)) : NULL;
      if (close != NULL && (size_t)(close - open - 1) < outlen) {
        memcpy(out, open + 1, (size_t)(close - open - 1));
        out[close - open - 1] = '\0';
        return 0;
      }
    }
    line = end != NULL ? end + 1 : NULL;
  }
  return -1;
}

/* The name dcmodify knows an attribute by: its tag for those DCMTK's dictionary lists as retired. */
static const char *dictionary_name(const char *keyword)
{
  if (strcmp(keyword, "OtherPatientIDs") == 0)
    return "(0010,1000)";
  if (strcmp(keyword, "MedicalRecordLocator") == 0)
    return "(0010,1090)";
  return keyword;
}

/* Builds dcmodify's arguments from the dump of the input. */
static int plan_deid(const char *dump, const unsigned char *key, struct args *a, struct anon_dicom_stats *st, char *err,
                     size_t errlen)
{
  static const char *const dates[] = {"StudyDate",   "SeriesDate",           "AcquisitionDate",
                                      "ContentDate", "InstanceCreationDate", "PerformedProcedureStepStartDate",
                                      NULL};
  char pseudo[ANON_PSEUDONYM_LEN + 1], value[ANON_UID_MAX + 1], uid[ANON_UID_MAX + 1], date[9];
  long shift = 0;

  if (top_value(dump, "PatientID", value, sizeof(value)) != 0 || value[0] == '\0') {
    anon_errf(err, errlen, "no PatientID: the pseudonym and the date offset are derived from it");
    return -1;
  }
  if (anon_subject(key, value, strlen(value), pseudo, &shift, 365) != 0)
    goto fail;
  if (top_value(dump, "BurnedInAnnotation", value, sizeof(value)) == 0 && strncmp(value, "YES", 3) == 0)
    st->burned_in = 1;
  if (arg(a, "dcmodify", NULL) != 0 || arg(a, "-q", NULL) != 0 || arg(a, "-nb", NULL) != 0 ||
      arg(a, "-imt", NULL) != 0 || arg(a, "-ep", NULL) != 0)
    goto fail;
  for (size_t i = 0; pseudonymized[i] != NULL; i++) {
    if (arg(a, "-ma", NULL) != 0 || arg(a, pseudonymized[i], pseudo) != 0)
      goto fail;
  }
  for (size_t i = 0; blanked[i] != NULL; i++, st->blanked++) {
    if (arg(a, "-ma", NULL) != 0 || arg(a, blanked[i], "") != 0)
      goto fail;
  }
  for (size_t i = 0; identifying[i] != NULL; i++) {
    if (in(blanked, identifying[i]) || in(pseudonymized, identifying[i]))
      continue;
    if (arg(a, "-ea", NULL) != 0 || arg(a, dictionary_name(identifying[i]), NULL) != 0)
      goto fail;
    st->removed++;
  }
  for (size_t i = 0; remapped_uids[i] != NULL; i++) {
    if (top_value(dump, remapped_uids[i], value, sizeof(value)) != 0 || value[0] == '\0')
      continue;
    if (anon_uid_remap(key, value, uid) != 0 || arg(a, "-m", NULL) != 0 || arg(a, remapped_uids[i], uid) != 0)
      goto fail;
    st->uids++;
  }
  for (size_t i = 0; dates[i] != NULL; i++) {
    if (top_value(dump, dates[i], value, sizeof(value)) != 0 || shift_da(value, strlen(value), shift, date) != 0)
      continue;
    if (arg(a, "-m", NULL) != 0 || arg(a, dates[i], date) != 0)
      goto fail;
    st->dates++;
  }
  if (arg(a, "-i", NULL) != 0 || arg(a, "(0012,0062)", "YES") != 0 || arg(a, "-i", NULL) != 0 ||
      arg(a, "(0012,0063)", "PS3.15 basic profile (concours): keyed pseudonym and UIDs, shifted dates") != 0)
    goto fail;
  OPENSSL_cleanse(pseudo, sizeof(pseudo));
  return 0;
fail:
  anon_errf(err, errlen, "too many attributes to change, or OpenSSL failed");
  return -1;
}

int anon_deidentify_dicom(const char *in_path, const char *out_path, const unsigned char key[ANON_KEY_LEN],
                          struct anon_dicom_stats *stats, char *err, size_t errlen)
{
  struct args *a = calloc(1, sizeof(*a));
  char tmp[4200], safe[4200], *dump = NULL;
  int fd = -1, rc = ANON_ERROR, created = 0, status;

  memset(stats, 0, sizeof(*stats));
  if (a == NULL || snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", out_path) >= (int)sizeof(tmp) ||
      snprintf(safe, sizeof(safe), "%s%s", in_path[0] == '-' ? "./" : "", in_path) >= (int)sizeof(safe)) {
    anon_errf(err, errlen, "%s: out of memory or path too long", in_path);
    goto out;
  }
  dump = run_dcmdump(safe, in_path, err, errlen);
  if (dump == NULL || plan_deid(dump, key, a, stats, err, errlen) != 0)
    goto out;
  fd = mkstemp(tmp);
  created = fd >= 0;
  if (fd < 0 || copy_file(in_path, fd) != 0) {
    anon_errf(err, errlen, "%s: cannot write a temporary copy: %s", out_path, strerror(errno));
    goto out;
  }
  if (snprintf(safe, sizeof(safe), "%s%s", tmp[0] == '-' ? "./" : "", tmp) >= (int)sizeof(safe) ||
      arg(a, safe, NULL) != 0) {
    anon_errf(err, errlen, "%s: path too long (dcmodify's arguments are at most %d bytes)", out_path, ARG_BYTES);
    goto out;
  }
  status = run_tool(a->v);
  if (status != 0) {
    anon_errf(err, errlen, "%s: dcmodify (Debian package dcmtk) %s", in_path,
              status == 127 ? "is not installed" : "failed on this file");
    goto out;
  }
  (void)close(fd);
  fd = -1;
  if (anon_publish(tmp, out_path, err, errlen) != 0)
    goto out;
  created = 0;
  rc = ANON_PASS;
out:
  if (fd >= 0)
    (void)close(fd);
  if (created)
    (void)unlink(tmp);
  free(dump);
  free(a);
  return rc;
}
