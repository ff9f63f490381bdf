#!/usr/bin/env python3
"""Draws one experiment's figure from the plot spec autonic writes (autonic experiment).

usage: plot_experiment.py SPEC.json OUT.png

The spec holds everything to draw: a title, a caption (this machine, the clock), and panels,
each with axis labels and series (label, x, y, kind "ours" = solid with markers, "paper" =
dashed). Uses Debian's python3-matplotlib (installed by scripts/deps.sh), no display needed.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    panels = spec["panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.8), squeeze=False)
    for ax, p in zip(axes[0], panels):
        for s in p["series"]:
            paper = s.get("kind") == "paper"
            ax.plot(s["x"], s["y"], linestyle="--" if paper else "-", marker="x" if paper else "o",
                    label=s["label"], color=s.get("color"))
        ax.set_xlabel(p["xlabel"])
        ax.set_ylabel(p["ylabel"])
        ax.set_title(p.get("title", ""))
        if p.get("xlog"):
            ax.set_xscale("log", base=2)
        if p.get("xticks"):  # e.g. file sizes: ticks at the points, labelled as the table says them
            ax.set_xticks(p["xticks"], p.get("xticklabels", [str(x) for x in p["xticks"]]))
            ax.minorticks_off()
        if p.get("ymin") is not None:
            ax.set_ylim(bottom=p["ymin"])
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(spec["title"])
    fig.text(0.5, 0.01, spec["caption"], ha="center", fontsize="small", wrap=True)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    fig.savefig(sys.argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
