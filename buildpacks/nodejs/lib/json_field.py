#!/usr/bin/env python3
"""Print fields of a JSON file: json_field.py FILE dotted.path [dotted.path ...]

Each value is printed followed by a NUL byte (read them with `mapfile -d ''`):
strings as they are, other values as JSON, a missing field as an empty
string. A missing file gives empty values; invalid JSON exits 2.
"""
import json
import sys


def lookup(doc, dotted):
    value = doc
    for key in dotted.split('.') if dotted else []:
        if not isinstance(value, dict) or key not in value:
            return ''
        value = value[key]
    if value is None:
        return ''
    return value if isinstance(value, str) else json.dumps(value)


def main(path, fields):
    try:
        with open(path, encoding='utf-8') as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        doc = {}
    except ValueError as err:
        sys.stderr.write('%s is not valid JSON: %s\n' % (path, err))
        return 2
    sys.stdout.write(''.join(lookup(doc, f).replace('\0', '') + '\0' for f in fields))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2:]))
