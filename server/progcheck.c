/* progcheck.c: see progcheck.h. The Python side is a short script given to `python3 -I -c` (isolated: no
 * PYTHONPATH, no user site, no current folder on the path), which prints one "relpath:message" (most messages starting "line N: ") line per
 * finding; it parses and looks up, it never imports or runs the organizer's files. */
#include "progcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "runner.h"
#include "util.h"

#define PYTHON "/usr/bin/python3"
#define MAX_FINDINGS 10

static const char checker[] =
  "import ast, glob, importlib.util, os, sys\n"
  "root, where = sys.argv[1], sys.argv[2]\n"
  "# where: 'host' (this Python's modules), 'syntax' (no import lookup), or a runtime's root file system, whose\n"
  "# Python folders are listed (a module is a folder, or a .py / .pyc / .so file, by its name before the first dot)\n"
  "avail = None\n"
  "if where not in ('host', 'syntax'):\n"
  "    real = os.path.realpath(where)\n"
  "    avail = set(sys.builtin_module_names)\n"
  "    pats = ('usr/lib/python3*', 'usr/local/lib/python3*', 'opt/conda/lib/python3*')\n"
  "    subs = ('', 'lib-dynload', 'site-packages', 'dist-packages')\n"
  "    found = [d for p in pats for s in subs for d in sorted(glob.glob(os.path.join(where, p, s)))]\n"
  "    for d in found:\n"
  "        if not os.path.realpath(d).startswith(real + os.sep) or not os.path.isdir(d):\n"
  "            continue\n"
  "        for n in os.listdir(d)[:100000]:\n"
  "            if os.path.isdir(os.path.join(d, n)) or n.endswith(('.py', '.pyc', '.so')):\n"
  "                avail.add(n.split('.')[0])\n"
  "    if len(avail) == len(sys.builtin_module_names):\n"
  "        where = 'syntax'  # no Python in the runtime: the command's interpreter check says so\n"
  "who = 'the scoring sandbox\\'s Python 3' if where == 'host' else 'the Python 3 of the program\\'s runtime'\n"
  "files, local = [], set()\n"
  "for d, dirs, names in os.walk(root):\n"
  "    dirs.sort()\n"
  "    for n in sorted(names):\n"
  "        if n.endswith('.py'):\n"
  "            files.append(os.path.join(d, n))\n"
  "        local.add(n.split('.')[0])\n"
  "    local.update(dirs)\n"
  "PY2 = ('Missing parentheses in call to', 'multiple exception types must be parenthesized',\n"
  "       'leading zeros in decimal integer literals', 'invalid hexadecimal literal',\n"
  "       'inconsistent use of tabs and spaces in indentation')\n"
  "def guards_import(handler):\n"
  "    t = handler.type\n"
  "    names = [t] if not isinstance(t, ast.Tuple) else list(t.elts) if t is not None else []\n"
  "    return t is None or any(getattr(n, 'id', '') in ('ImportError', 'ModuleNotFoundError', 'Exception',\n"
  "                                                      'BaseException') for n in names)\n"
  "def module_level(body):\n"
  "    for node in body:\n"
  "        if isinstance(node, ast.Try) and any(guards_import(h) for h in node.handlers):\n"
  "            continue\n"
  "        if isinstance(node, (ast.Import, ast.ImportFrom)):\n"
  "            yield node\n"
  "        for field in ('body', 'orelse', 'finalbody'):\n"
  "            if isinstance(node, (ast.If, ast.With, ast.Try)) and hasattr(node, field):\n"
  "                yield from module_level(getattr(node, field))\n"
  "found = 0\n"
  "for f in files[:2000]:\n"
  "    rel = os.path.relpath(f, root)\n"
  "    try:\n"
  "        tree = ast.parse(open(f, 'rb').read(), rel)\n"
  "    except SyntaxError as e:\n"
  "        py2 = any(s in (e.msg or '') for s in PY2) or (e.msg == 'invalid syntax' and\n"
  "              (e.text or '').lstrip().startswith(('print ', 'exec ', 'raise ')))\n"
  "        print('%s:line %d: %s%s' % (rel, e.lineno or 0, e.msg, ' (Python 2 code: Python 2 programs are not "
  "supported,'\n"
  "              ' port it to Python 3)' if py2 else ' (not valid Python 3)'))\n"
  "        found += 1\n"
  "        continue\n"
  "    except (ValueError, RecursionError, MemoryError) as e:\n"
  "        print('%s:cannot be parsed: %s' % (rel, str(e) or 'nested too deeply'))\n"
  "        found += 1\n"
  "        continue\n"
  "    if where == 'syntax':\n"
  "        continue\n"
  "    seen = set()\n"
  "    for node in module_level(tree.body):\n"
  "        mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \\\n"
  "            [node.module] if node.level == 0 and node.module else []\n"
  "        for m in mods:\n"
  "            top = m.split('.')[0]\n"
  "            if top in local or top in seen:\n"
  "                continue\n"
  "            seen.add(top)\n"
  "            try:\n"
  "                missing = importlib.util.find_spec(top) is None if avail is None else top not in avail\n"
  "            except (ImportError, ValueError):\n"
  "                missing = True\n"
  "            if missing:\n"
  "                print('%s:line %d: imports %s, which %s does not have%s' % (rel, node.lineno, top, who,\n"
  "                      ' (metric.runtime can give the program one that has it)' if where == 'host' else ''))\n"
  "                found += 1\n"
  "    if found >= 10:\n"
  "        break\n";

/* 1 when the command word NAME (no slash) is a shell builtin or keyword (`cd $program && ...`), or an executable
 * of the host's /usr (what the sandbox mounts), or of the root file system ROOTFS when it is not NULL (any entry
 * of that name counts there: an image's commands are often symlinks). */
static int has_command(const char *rootfs, const char *name)
{
  static const char *const shell[] = {"cd",     "export", "exec", "set",  ".", "source", "if",    "for",
                                      "while",  "case",   "eval", "test", "[", "true",   "false", "echo",
                                      "ulimit", "umask",  "time", "{",    "(", "env",    "nice",  "timeout"};
  for (size_t i = 0; i < sizeof(shell) / sizeof(shell[0]); i++) {
    if (strcmp(name, shell[i]) == 0)
      return 1;
  }
  static const char *const dirs[] = {"/usr/bin", "/bin", "/usr/local/bin", "/usr/sbin", "/sbin"};
  char path[APP_PATH_MAX];
  struct stat st;
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
    if (rootfs != NULL) {
      if (util_fmt(path, sizeof(path), "%s%s/%s", rootfs, dirs[i], name) == 0 && lstat(path, &st) == 0)
        return 1;
    } else if (util_fmt(path, sizeof(path), "%s/%s", dirs[i], name) == 0 && stat(path, &st) == 0 &&
               S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0) {
      return 1;
    }
  }
  return 0;
}

/* The interpreter of CMD: its first word after NAME=value assignments, into WORD (empty when there is none). */
static void first_word(const char *cmd, char *word, size_t n)
{
  size_t i = 0;
  word[0] = '\0';
  for (;;) {
    while (cmd[i] == ' ' || cmd[i] == '\t')
      i++;
    size_t len = strcspn(cmd + i, " \t");
    if (len == 0)
      return;
    if (memchr(cmd + i, '=', len) != NULL && cmd[i] != '$' && cmd[i] != '/') {
      i += len; /* an environment assignment */
      continue;
    }
    if (len >= n)
      len = n - 1;
    memcpy(word, cmd + i, len);
    word[len] = '\0';
    return;
  }
}

int progcheck_run(const char *dir, const char *prefix, const char *cmd, const char *rootfs,
                  enum progcheck_program which, struct bundle_problems *p)
{
  char word[128], file[APP_PATH_MAX];
  int added = 0;
  first_word(cmd, word, sizeof(word));
  if (word[0] != '\0' && strchr(word, '/') == NULL && strchr(word, '$') == NULL &&
      (rootfs == NULL || rootfs[0] != '\0') && !has_command(rootfs, word) &&
      util_fmt(file, sizeof(file), "%s/metadata", prefix) == 0) {
    int scoring = which == PROGCHECK_SCORING;
    const char *key = scoring ? "metric.runtime" : "submission.runtime";
    if (rootfs == NULL)
      bundle_problem(p, file, "command",
                     "runs %s, which the %s sandbox does not have (it sees the host's /usr: python3 "
                     "with numpy, pandas, scikit-learn, scipy; sh and coreutils; %s can give the program "
                     "another root file system)",
                     word, scoring ? "scoring" : "code", key);
    else
      bundle_problem(p, file, "command", "runs %s, which the program's runtime (%s) does not have", word, key);
    added++;
  }
  const char *where = which == PROGCHECK_INGESTION || (rootfs != NULL && rootfs[0] == '\0') ? "syntax"
                      : rootfs == NULL                                                      ? "host"
                                                                                            : rootfs;
  char *argv[] = {PYTHON, "-I", "-c", (char *)checker, (char *)dir, (char *)where, NULL};
  struct runner_limits lim = {120, 120, 2048, 16, 64 * 1024};
  struct runner_result res;
  memset(&res, 0, sizeof(res));
  if (!has_command(NULL, "python3") || runner_run(argv, &lim, NULL, &res) != 0 || res.out == NULL ||
      (res.exit_code != 0 && res.out[0] == '\0')) {
    runner_result_free(&res);
    return added > 0 ? added : -1;
  }
  int lines = 0;
  for (char *line = res.out; line != NULL && *line != '\0' && lines < MAX_FINDINGS;) {
    char *next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    char *colon = strchr(line, ':');
    if (colon != NULL) {
      *colon = '\0';
      if (util_fmt(file, sizeof(file), "%s/%s", prefix, line) == 0) {
        bundle_problem(p, file, NULL, "%s", colon + 1);
        added++;
        lines++;
      }
    }
    line = next;
  }
  runner_result_free(&res);
  return added;
}
