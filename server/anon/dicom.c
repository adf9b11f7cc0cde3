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
    if (value == NULL || vlen == 0)
      continue;
    if (strcmp(keyword, "BurnedInAnnotation") == 0 && strncmp(value, "YES", 3) == 0)
      burned = 1;
    (void)snprintf(where, sizeof(where), "(%04X,%04X) %.64s", group, elem, keyword);
    if (in(identifying, keyword)) {
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
