#!/usr/bin/env python3
"""No function longer than MAX lines (autonic STYLE: small functions, one role).

A brace-matching scan, not a C++ parser: comments, string and character literals are blanked
out, then every `{` opened at namespace or class scope whose header (the text since the
previous `;`, `{` or `}` at that scope) has a parameter list and is not a class, enum, namespace
or initializer is a function body. Its length is counted from the header's first line to the
closing brace. Lambdas and local classes count towards the function they sit in.

Usage: check_fn_length.py [--max N] [PATH ...]   (default: src/ of the repository)
Exit 1 if any function is too long (files in ALLOW excepted, listed as notes).
"""
import argparse
import fnmatch
import os
import re
import sys

MAX = 120
# Files whose long functions are reported, not failed (globs relative to the repository). Empty:
# when issue #9 part 5 wired this check in, nothing in src/ was over the limit -- the files being
# rewritten then (src/driver/*, src/nic/nic.cc, framed_rx.cc, tls_rx.cc, nvme_queue.cc) included.
ALLOW = []

SCOPE_KEYWORDS = re.compile(r"\b(namespace|class|struct|union|enum)\b")


def blank_comments_and_literals(text):
    """Comments and literals become spaces (newlines kept), so braces inside them don't count."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == '_')):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            # a digit separator (1'000'000) is not a character literal
            if c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum() \
                    and (i + 2 >= n or text[i + 2] != "'"):
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def is_function_header(header):
    h = re.sub(r"^\s*#.*$", "", header, flags=re.M).strip()  # preprocessor lines
    h = re.sub(r"^\s*(public|private|protected)\s*:", "", h).strip()
    if "(" not in h:
        return False
    before_paren = h[: h.index("(")]
    if SCOPE_KEYWORDS.search(before_paren) and not re.search(r"\boperator\b", before_paren):
        return False
    if re.search(r"=\s*$", h) or re.match(r"^\s*(return|else|do)\b", h):
        return False
    if "=" in before_paren and "operator" not in before_paren:  # e.g. `auto x = f(...) {` (a lambda value)
        return False
    return True


def functions(path):
    text = blank_comments_and_literals(open(path, encoding="utf-8", errors="replace").read())
    line_of = [0] * (len(text) + 1)
    ln = 1
    for i, ch in enumerate(text):
        line_of[i] = ln
        if ch == "\n":
            ln += 1
    line_of[len(text)] = ln
    # stack entries: (kind, start_line, name); kind 'scope' (namespace/class/...) or 'fn' or 'other'
    stack = []
    header_start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            in_fn = any(k == "fn" for k, _, _ in stack)
            header = text[header_start:i]
            if in_fn:
                stack.append(("other", 0, ""))
            elif is_function_header(header):
                stripped = header.lstrip()
                start = header_start + (len(header) - len(stripped))
                m = re.search(r"([~\w:]+|operator\s*\S+)\s*\(", header)
                stack.append(("fn", line_of[start], m.group(1) if m else "?"))
            elif re.search(r"\b(class|struct|union|namespace|enum)\b", header) or header.strip().startswith("extern"):
                stack.append(("scope", 0, ""))
            else:
                stack.append(("other", 0, ""))
            header_start = i + 1
        elif ch == "}":
            if stack:
                kind, start, name = stack.pop()
                if kind == "fn":
                    yield name, start, line_of[i] - start + 1
            header_start = i + 1
        elif ch == ";":
            if not any(k in ("fn", "other") for k, _, _ in stack):
                header_start = i + 1
        i += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=MAX)
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = a.paths or [os.path.join(root, "src")]
    files = []
    for p in paths:
        if os.path.isdir(p):
            for d, _, fs in os.walk(p):
                files += [os.path.join(d, f) for f in fs if f.endswith((".cc", ".h", ".cpp", ".hpp"))]
        else:
            files.append(p)
    bad = 0
    for f in sorted(files):
        rel = os.path.relpath(os.path.abspath(f), root)
        allowed = any(fnmatch.fnmatch(rel, g) for g in ALLOW)
        for name, start, length in functions(f):
            if length > a.max:
                print(f"{'note (allowed)' if allowed else 'TOO LONG'}: {rel}:{start}: {name}: {length} lines > {a.max}")
                bad += 0 if allowed else 1
    if bad:
        print(f"{bad} function(s) over {a.max} lines")
        return 1
    print(f"check_fn_length: no function over {a.max} lines ({len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
