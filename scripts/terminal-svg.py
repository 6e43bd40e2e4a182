#!/usr/bin/env python3
"""Renders a captured terminal screen (plain text, e.g. `tmux capture-pane -p`) as an SVG image:
the README's screenshot of `rill top` (scripts/screenshot-top.sh makes it).

Usage: scripts/terminal-svg.py SCREEN.txt OUT.svg [TITLE]
"""
import html
import sys


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    lines = open(sys.argv[1], encoding="utf-8").read().rstrip("\n").split("\n")
    title = sys.argv[3] if len(sys.argv) == 4 else "terminal"
    char_w, line_h, pad, bar = 8.4, 17, 14, 26
    cols = max((len(line) for line in lines), default=0)
    width = int(cols * char_w + 2 * pad)
    height = int(len(lines) * line_h + 2 * pad + bar)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<rect width="{width}" height="{height}" rx="6" fill="#1e1e1e"/>',
        f'<rect width="{width}" height="{bar}" rx="6" fill="#333"/>',
        '<circle cx="16" cy="13" r="5" fill="#ff5f56"/><circle cx="32" cy="13" r="5" fill="#ffbd2e"/>'
        '<circle cx="48" cy="13" r="5" fill="#27c93f"/>',
        f'<text x="{width / 2}" y="17" fill="#bbb" font-family="sans-serif" font-size="12" '
        f'text-anchor="middle">{html.escape(title)}</text>',
        '<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14" fill="#d4d4d4" '
        'xml:space="preserve">',
    ]
    for i, line in enumerate(lines):
        y = bar + pad + (i + 1) * line_h - 4
        out.append(f'<text x="{pad}" y="{y}">{html.escape(line)}</text>')
    out.append("</g></svg>")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
