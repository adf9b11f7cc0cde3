"""Why this file exists: the one list of the keys the catalogues must hold (web/i18n/*.json), read from the
sources themselves, so that a new message or page text cannot ship untranslated.

- "ui": the literal first argument of every t('...') in web/js, the static text of every page in web/ (text
  nodes, <title>, and the aria-label, placeholder, title and alt attributes, as web/js/i18n.js reads them), and the
  values the pages translate from data (statuses, roles, states) listed below.
- "server": the messages a participant can read, as printf formats (the mails too): the errors of the participant-facing handlers
  and of the staff pages (http_reply_error, http_reply_error_headers, http_reply_message), the quota message, and the scorer's messages about a
  prediction file (score_problem_add in scorer/*.c, scorer/arc.c, csv_status_text, score.c's list).
"""
import html.parser
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Values the pages pass to t() from the API's data (web/js: statuses, stages, roles, challenge states, splits).
DYNAMIC_UI = [
    'queued', 'running', 'scored', 'failed', 'cancelled',          # submission statuses
    'preparing', 'fetching', 'scoring',                            # run stages
    'participant', 'organizer', 'jury', 'admin',                   # roles
    'draft', 'open', 'archived', 'upcoming', 'finished',           # challenge states, home page groups
    'public', 'private',                                           # leaderboard splits
    'pending', 'accepted', 'refused',                              # the jury's verdict on a method description
]

# every handler the pages use (the workers' API, h_worker.c, talks to machines)
HANDLERS = ['h_auth.c', 'h_challenges.c', 'h_submissions.c', 'h_teams.c', 'h_factsheet.c', 'h_jury.c', 'h_organizer.c',
            'http.c', 'routes.c']

STRING = r'"(?:[^"\\\n]|\\.)*"'


def c_unescape(lit):
    body = lit[1:-1]
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == '\\' and i + 1 < len(body):
            n = body[i + 1]
            out.append({'n': '\n', 't': '\t', '"': '"', '\\': '\\', "'": "'"}.get(n, n))
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def call_args(src, start):
    """The top-level arguments of the call whose '(' is at START, as source text."""
    depth = 0
    args = []
    cur = []
    i = start
    while i < len(src):
        c = src[i]
        if c == '"':
            m = re.compile(STRING).match(src, i)
            cur.append(m.group(0))
            i = m.end()
            continue
        if c == "'":
            m = re.compile(r"'(?:[^'\\]|\\.)*'").match(src, i)
            cur.append(m.group(0))
            i = m.end()
            continue
        if c == '(':
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c == ')':
            depth -= 1
            if depth == 0:
                args.append(''.join(cur))
                return args
        elif c == ',' and depth == 1:
            args.append(''.join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return args


def literals(arg):
    """Each run of adjacent string literals in ARG (both branches of a ?:), joined."""
    out = []
    for run in re.finditer(r'(?:%s\s*)+' % STRING, arg):
        out.append(''.join(c_unescape(m) for m in re.findall(STRING, run.group(0))))
    return out


def call_formats(path, name, index):
    src = pathlib.Path(path).read_text()
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    found = []
    for m in re.finditer(r'\b%s\s*\(' % re.escape(name), src):
        args = call_args(src, m.end() - 1)
        if len(args) > index:
            found.extend(literals(args[index]))
    return found


def server_keys():
    keys = set()
    for f in HANDLERS:
        p = ROOT / 'server' / f
        keys.update(call_formats(p, 'http_reply_error', 2))
        keys.update(call_formats(p, 'http_reply_error_headers', 3))
        keys.update(call_formats(p, 'http_reply_message', 2))
        keys.update(call_formats(p, 'i18n_text', 1))
    # the jury's stability analysis says why it cannot run (h_jury.c replies it as "%s")
    for index in (2, 3):
        keys.update(call_formats(ROOT / 'server' / 'stability.c', 'snprintf', index))
    # the quota message is written, then translated (h_submissions.c quota_reply)
    keys.update(k for k in call_formats(ROOT / 'server' / 'h_submissions.c', 'snprintf', 2) if 'submission left' in k)
    for p in sorted((ROOT / 'scorer').glob('*.c')):  # problems of the ground truth, the prediction file, the join
        keys.update(call_formats(p, 'score_problem_add', 4))
    keys.update(call_formats(ROOT / 'scorer' / 'arc.c', 'snprintf', 2))
    csv = (ROOT / 'scorer' / 'csv.c').read_text()
    body = csv[csv.index('const char *csv_status_text'):]
    body = body[:body.index('\n}\n')]
    keys.update(literals(body))
    keys.add('%zu problems in the prediction file:')
    keys.add('... and %zu more')
    # a message has words: a lone token (a path, a format name) is not one
    keys = {k for k in keys if re.search(r'[A-Za-z]', k) and ' ' in k.strip() and '\n' not in k}
    # what the server translates by name: the mails it writes (i18n_snprintf) and the words in them (i18n_format)
    for f in sorted((ROOT / 'server').glob('*.c')):
        keys.update(call_formats(f, 'i18n_snprintf', 3))
        keys.update(call_formats(f, 'i18n_format', 1))
    return sorted(keys)


class Static(html.parser.HTMLParser):
    SKIP = {'script', 'style', 'code', 'pre'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.keys = set()
        self.stack = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ('meta', 'link', 'input', 'img', 'br', 'hr', 'source'):
            self.stack.append(tag if 'data-no-i18n' not in a else 'script')
        for name in ('aria-label', 'placeholder', 'title', 'alt'):
            if a.get(name):
                add_static(self.keys, a[name])

    def handle_startendtag(self, tag, attrs):
        for name in ('aria-label', 'placeholder', 'title', 'alt'):
            v = dict(attrs).get(name)
            if v:
                add_static(self.keys, v)

    def handle_endtag(self, tag):
        if tag in ('meta', 'link', 'input', 'img', 'br', 'hr', 'source'):
            return
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, data):
        if any(t in self.SKIP for t in self.stack):
            return
        add_static(self.keys, data)


def add_static(keys, text):
    key = re.sub(r'\s+', ' ', text).strip()
    if re.search(r'[^\W\d_]', key):
        keys.add(key)


def ui_keys():
    keys = set(DYNAMIC_UI)
    call = re.compile(r"\bt\(\s*'((?:[^'\\]|\\.)*)'")
    for f in sorted((ROOT / 'web' / 'js').glob('*.js')):
        code = re.sub(r'^\s*//.*$', '', f.read_text(), flags=re.M)
        for m in call.finditer(code):
            keys.add(re.sub(r"\\(.)", r"\1", m.group(1)))
    for f in sorted((ROOT / 'web').glob('*.html')):
        p = Static()
        p.feed(f.read_text())
        keys.update(p.keys)
    return sorted(keys)


if __name__ == '__main__':
    import json
    print(json.dumps({'ui': ui_keys(), 'server': server_keys()}, ensure_ascii=False, indent=1))
