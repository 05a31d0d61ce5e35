#!/usr/bin/env python3
"""Pick the newest version that satisfies a semver range (node-semver's rules).

Usage:
  semver.py RANGE [--engines-node VERSION] < registry-metadata.json
  semver.py RANGE < versions.txt          (one version per line)

Prints the chosen version, or exits 1 when none satisfies RANGE. With
--engines-node, candidates whose `engines.node` does not accept VERSION are
skipped, and so are versions above the `latest` dist-tag (used to choose an
npm that supports the node we install).

Supports what package.json files use: exact versions, x-ranges (20, 20.x, *),
comparators (>=18 <21, "> = 18" style spacing), ~, ^, hyphen ranges (1 - 2.3)
and || unions. Prereleases only match a comparator that names the same
major.minor.patch with a prerelease, as in node-semver.
"""
import json
import re
import sys

WILD = ('x', 'X', '*')
PARTIAL = re.compile(
    r'^v?(\d+|[xX*])(?:\.(\d+|[xX*])(?:\.(\d+|[xX*])'
    r'(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?)?)?$')


def _pre_key(pre):
    """Precedence of a prerelease tuple; a release sorts above any prerelease."""
    if not pre:
        return (1,)
    return (0, tuple((0, int(p), '') if p.isdigit() else (1, 0, p) for p in pre))


class Version:
    __slots__ = ('major', 'minor', 'patch', 'pre', 'raw')

    def __init__(self, major, minor, patch, pre=(), raw=None):
        self.major, self.minor, self.patch, self.pre = major, minor, patch, tuple(pre)
        self.raw = raw or '%d.%d.%d%s' % (major, minor, patch, ('-' + '.'.join(pre)) if pre else '')

    def key(self):
        return (self.major, self.minor, self.patch, _pre_key(self.pre))

    def __lt__(self, other):
        return self.key() < other.key()

    def __repr__(self):
        return self.raw


def parse_version(text):
    m = PARTIAL.match(text.strip())
    if not m or any(g is None or g in WILD for g in m.groups()[:3]):
        return None
    pre = tuple(m.group(4).split('.')) if m.group(4) else ()
    return Version(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre, text.strip().lstrip('v'))


def _partial(text):
    """'20' -> (20, None, None, ()); '*' or '' -> (None, None, None, ())."""
    if text in ('', 'latest'):
        return (None, None, None, ())
    m = PARTIAL.match(text)
    if not m:
        raise ValueError('invalid version in range: %r' % text)
    nums = [None if g is None or g in WILD else int(g) for g in m.groups()[:3]]
    # Anything after a wildcard is a wildcard too ("1.x.3" means "1.x").
    for i in range(3):
        if nums[i] is None:
            nums[i + 1:] = [None] * (2 - i)
            break
    pre = tuple(m.group(4).split('.')) if m.group(4) and nums[2] is not None else ()
    return (nums[0], nums[1], nums[2], pre)


def _floor(M, m, p, pre=()):
    return Version(M or 0, m or 0, p or 0, pre)


def _ceil(M, m):
    """The exclusive upper bound '<M.m.0-0' that ends an x-range."""
    if m is None:
        return Version(M + 1, 0, 0, ('0',))
    return Version(M, m + 1, 0, ('0',))


def _comparators(op, text):
    """Desugar one range element into a list of (op, Version)."""
    M, m, p, pre = _partial(text)
    if op in ('', '='):
        if M is None:
            return []
        if p is None:
            return [('>=', _floor(M, m, 0)), ('<', _ceil(M, m))]
        return [('=', Version(M, m, p, pre))]
    if op in ('~', '~>'):
        if M is None:
            return []
        return [('>=', _floor(M, m, p, pre)), ('<', _ceil(M, m if m is not None else None))]
    if op == '^':
        if M is None:
            return []
        lo = _floor(M, m, p, pre)
        if M > 0 or m is None:
            hi = Version(M + 1, 0, 0, ('0',))
        elif m > 0 or p is None:
            hi = Version(0, m + 1, 0, ('0',))
        else:
            hi = Version(0, 0, p + 1, ('0',))
        return [('>=', lo), ('<', hi)]
    if M is None:  # >*, <*, >=*, <=*
        return [] if op in ('>=', '<=') else [('<', Version(0, 0, 0, ('0',)))]
    if p is not None:
        return [(op, Version(M, m, p, pre))]
    if op == '>':
        return [('>=', _ceil(M, m))]
    if op == '>=':
        return [('>=', _floor(M, m, 0))]
    if op == '<':
        return [('<', _floor(M, m, 0, ('0',)))]
    if op == '<=':
        return [('<', _ceil(M, m))]
    raise ValueError('unknown operator %r' % op)


TOKEN = re.compile(r'(~>|>=|<=|[<>=~^])?\s*([^\s<>=~^]*)')


def parse_range(text):
    """Return a list of comparator sets (each a list of (op, Version))."""
    sets = []
    for part in (text or '').split('||'):
        part = part.strip()
        hyphen = re.match(r'^(\S+)\s+-\s+(\S+)$', part)
        if hyphen:
            lo = _partial(hyphen.group(1))
            hi = _partial(hyphen.group(2))
            comps = [] if lo[0] is None else [('>=', _floor(*lo))]
            if hi[0] is not None:
                comps += [('<=', Version(*hi))] if hi[2] is not None else [('<', _ceil(hi[0], hi[1]))]
            sets.append(comps)
            continue
        comps, pos = [], 0
        while pos < len(part):
            if part[pos].isspace():
                pos += 1
                continue
            m = TOKEN.match(part, pos)
            if not m or m.end() == pos:
                raise ValueError('invalid range: %r' % text)
            comps += _comparators(m.group(1) or '', m.group(2))
            pos = m.end()
        sets.append(comps)
    return sets


def _test(op, a, b):
    ka, kb = a.key(), b.key()
    return {'=': ka == kb, '<': ka < kb, '<=': ka <= kb, '>': ka > kb, '>=': ka >= kb}[op]


def satisfies(version, sets):
    for comps in sets:
        if not all(_test(op, version, v) for op, v in comps):
            continue
        if not version.pre:
            return True
        same = (version.major, version.minor, version.patch)
        if any(v.pre and (v.major, v.minor, v.patch) == same and v.pre != ('0',) for _, v in comps):
            return True
    return False


def max_satisfying(versions, range_text):
    sets = parse_range(range_text)
    ok = [v for v in versions if satisfies(v, sets)]
    return max(ok, key=Version.key) if ok else None


def main(argv):
    if len(argv) < 2 or argv[1] in ('-h', '--help'):
        sys.stderr.write(__doc__)
        return 2
    range_text = argv[1]
    engines_node = None
    if len(argv) >= 4 and argv[2] == '--engines-node':
        engines_node = parse_version(argv[3])
    data = sys.stdin.read()
    meta, latest = {}, None
    if data.lstrip().startswith('{'):
        doc = json.loads(data)
        meta = doc.get('versions', {})
        names = list(meta)
        latest = parse_version((doc.get('dist-tags') or {}).get('latest') or '')
    else:
        names = data.split()
    versions = [v for v in (parse_version(n) for n in names) if v]
    if engines_node:
        def engine_ok(v):
            wanted = (meta.get(v.raw) or {}).get('engines') or {}
            wanted = wanted.get('node') if isinstance(wanted, dict) else None
            try:
                return not wanted or satisfies(engines_node, parse_range(wanted))
            except ValueError:
                return False
        versions = [v for v in versions if engine_ok(v) and not (latest and latest < v)]
    try:
        best = max_satisfying(versions, range_text)
    except ValueError as err:
        sys.stderr.write('%s\n' % err)
        return 2
    if not best:
        return 1
    print(best.raw)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
