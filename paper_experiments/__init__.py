"""Chapter registry, papermill runner and book builder for the Hidden Convexity book.

``python -m paper_experiments --help`` lists the commands. The notebook in ``book/`` is the
experiment; this package only runs it with a registered parameter set, caches the result by a
key over everything the result depends on, checks the declared figures and claims, and builds
the HTML book from the executed notebooks.
"""


class ConfigError(Exception):
    """A mistake a user can make on the command line or in the registry (one clear line)."""


class Interrupted(Exception):
    """Ctrl-C during a run: the chapter that was running and the chapters that had finished (their results stay)."""

    def __init__(self, slug: str, finished: list[str]) -> None:
        super().__init__(f"interrupted during chapter {slug}")
        self.slug = slug
        self.finished = finished



def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A pipe table with padded columns: valid MyST markdown and readable in a terminal."""
    table = [[str(cell).replace("|", "\\|") for cell in row] for row in [headers, *rows]]
    widths = [max(3, *(len(cell) for cell in column)) for column in zip(*table, strict=True)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in table]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)
