"""Command line: ``python -m paper_experiments {list,params,run,status,claims,build,falsify}``.

Examples::

    python -m paper_experiments list
    python -m paper_experiments params ntk_vs_finite_width           # names, types, values, meanings
    python -m paper_experiments run --profile smoke --chapter two_layer_convex
    python -m paper_experiments run --chapter linear_splines -p n=30 -p noise=0.2   # your own values
    python -m paper_experiments build --profile full        # run every chapter, then build the HTML book
    python -m paper_experiments falsify --chapter linear_splines   # every paper claim must fail under its falsifier
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from paper_experiments import ConfigError, Interrupted, markdown_table
from paper_experiments.build import build_book
from paper_experiments.claims import ClaimRow, claims_table, collect_claims, unmet_claims
from paper_experiments.falsify import FALSIFY_PROFILE, falsify_table, overrides_text, run_falsifiers, write_report
from paper_experiments.parameters import parameters_table, parse_overrides
from paper_experiments.registry import PROFILES
from paper_experiments.runner import Project, failure_reason, latest_status, result_dir, run_chapters, status_table

Command = Callable[[argparse.Namespace, Project], int]


def _list(args: argparse.Namespace, project: Project) -> int:
    for chapter in project.chapters.values():
        print(f"{chapter.slug}: {chapter.title}")
        print(f"  paper:    {chapter.citation}")
        print(f"  notebook: {chapter.notebook}")
        print(f"  figures:  {', '.join(chapter.figures)}")
        print("  claims:")
        for claim in chapter.claims:
            print(f"    {claim.id}: {claim.statement}")
    return 0


def _params(args: argparse.Namespace, project: Project) -> int:
    chapter = project.chapter(args.slug)
    print(f"{chapter.slug}: {chapter.title}")
    print(parameters_table(project.root, chapter))
    print(f"change one: python -m paper_experiments run --chapter {chapter.slug} -p NAME=VALUE [--profile smoke]")
    return 0


def _run_custom(args: argparse.Namespace, project: Project) -> int:
    if not args.chapter or len(args.chapter) != 1:
        named = f"; got {len(args.chapter)}: {' '.join(args.chapter)}" if args.chapter else ""
        raise ConfigError(f"parameter values (-p NAME=VALUE) apply to one chapter: name it with --chapter SLUG{named}")
    if args.jobs != 1:
        raise ConfigError("--jobs runs several chapters at once; -p runs one chapter: drop --jobs")
    (slug,) = args.chapter
    chapter = project.chapter(slug)
    overrides = parse_overrides(chapter, args.param)
    (status,) = run_chapters([slug], args.profile, force=args.force, project=project, overrides=overrides)
    values = ", ".join(f"{name}={value!r}" for name, value in overrides.items())
    print(f"{slug} with custom parameters ({values}) on top of the {args.profile} profile: {status.label}, "
          f"{status.wall_s:.1f} s")
    rows = [
        [claim.id, "custom parameters", *ClaimRow(chapter, claim, status.claims.get(claim.id)).cells()]
        for claim in chapter.claims
    ]
    print(markdown_table(["claim", "run", "measured", "requirement", "status"], rows))
    print(f"results (executed notebook, numbers, figures, claims): {result_dir(project, status)}")
    if status.error is not None or status.missing_figures:
        print(f"FAILED {slug}: {failure_reason(status)}", file=sys.stderr)
        return 1
    unmet = [claim.id for claim in chapter.claims if claim.judged(args.profile)
             and not status.claims.get(claim.id, {}).get("passed")]
    if unmet:
        print(f"{len(unmet)} claim(s) do not hold with these values: {', '.join(unmet)}"
              + ("" if args.strict else " (not an error without --strict)"), file=sys.stderr)
    return 1 if unmet and args.strict else 0


def _run(args: argparse.Namespace, project: Project) -> int:
    if args.param:
        return _run_custom(args, project)
    if args.strict:
        raise ConfigError("--strict applies to runs with your own values (-p NAME=VALUE); the registered profiles "
                          "always fail on an unmet claim")
    statuses = run_chapters(args.chapter, args.profile, force=args.force, jobs=args.jobs, project=project)
    print(status_table(statuses))
    failed = [status for status in statuses if not status.ok]
    for status in failed:
        print(f"FAILED {status.slug}: {failure_reason(status)}", file=sys.stderr)
    return 1 if failed else 0


def _status(args: argparse.Namespace, project: Project) -> int:
    statuses = {slug: latest_status(project, slug, args.profile) for slug in project.chapters}
    if any(statuses.values()):
        print(status_table(status for status in statuses.values() if status is not None))
    not_run = [slug for slug, status in statuses.items() if status is None]
    if not_run:
        print(f"not run with the {args.profile} profile: {', '.join(not_run)}")
    return 0


def _claims(args: argparse.Namespace, project: Project) -> int:
    rows = collect_claims(project, args.profile)
    print(f"claims ({args.profile} profile)")
    print(claims_table(rows))
    unmet = unmet_claims(rows)
    if unmet:
        print(f"{len(unmet)} claim(s) failed or not recorded: {', '.join(row.claim.id for row in unmet)}",
              file=sys.stderr)
    return 1 if unmet else 0


def _falsify(args: argparse.Namespace, project: Project) -> int:
    rows = run_falsifiers(args.chapter, args.profile, force=args.force, jobs=args.jobs, project=project)
    path = write_report(project, args.profile, rows)
    print(falsify_table(rows))
    print(f"report: {path}")
    bad = [row for row in rows if not row.ok]
    for row in bad:
        print(f"FALSIFIER {row.claim_id} ({overrides_text(row.overrides)}): {row.problem}", file=sys.stderr)
    return 1 if bad else 0


def _build(args: argparse.Namespace, project: Project) -> int:
    if args.param:
        raise ConfigError("the book is built from the registered parameters; use 'run -p' for your own values")
    if args.strict:
        raise ConfigError("--strict applies to 'run -p'; the book build always fails on an unmet claim")
    code = _run(args, project)
    falsified = run_falsifiers(args.chapter, FALSIFY_PROFILE, force=args.force, jobs=args.jobs, project=project)
    write_report(project, FALSIFY_PROFILE, falsified)
    for row in falsified:
        if not row.ok:
            print(f"FALSIFIER {row.claim_id} ({overrides_text(row.overrides)}): {row.problem}", file=sys.stderr)
    book = build_book(project, args.profile)
    broken = [f"{slug} ({kind})" for slug, kind in book.pages.items() if kind != "ok"]
    if broken:
        print(f"chapters shown without results: {', '.join(broken)}", file=sys.stderr)
    if not book.ok:
        print("error: jupyter-book build failed (warnings are errors); see its output above", file=sys.stderr)
    print(book.index)
    return 1 if code or broken or not book.ok or not all(row.ok for row in falsified) else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m paper_experiments",
        description="Run the book's chapters (cached, checked) and build the HTML book.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Command, text: str, profile: bool = True, run: bool = False) -> None:
        sub = commands.add_parser(name, help=text, description=text)
        sub.set_defaults(func=func)
        if profile:
            sub.add_argument("--profile", choices=PROFILES, default="full", help="parameter set (default: full)")
        if run:
            sub.add_argument("--chapter", nargs="+", action="extend", metavar="SLUG",
                             help="chapters to run (default: all)")
            sub.add_argument("--force", action="store_true", help="re-execute even when the result is cached")
            sub.add_argument("--jobs", type=int, default=1, metavar="N",
                             help="chapters run at once (at most one per core, on a dask LocalCluster); "
                             "exclusive ones run alone in full")
            sub.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                             help="your own value of a parameter (repeatable; one chapter; see 'params SLUG'); "
                             "the result goes to its own folder, never over the book's results")
            sub.add_argument("--strict", action="store_true",
                             help="with -p: fail when a claim does not hold (default: report it)")

    command("list", _list, "list the chapters: slug, title, paper, figures, claims", profile=False)
    params = commands.add_parser("params", help="a chapter's parameters: name, type, smoke and full values, meaning",
                                 description="A chapter's parameters: name, type, smoke and full values, meaning.")
    params.add_argument("slug", metavar="SLUG", help="the chapter (see 'list')")
    params.set_defaults(func=_params)
    command("run", _run, "execute chapters (cached by key) and check their figures and claims", run=True)
    command("status", _status, "show the latest run of every chapter")
    command("claims", _claims, "print the claims table from the latest runs")
    command("build", _build, "run the chapters, then build the HTML book into _build/html", run=True)
    falsify = commands.add_parser(
        "falsify", help="run each paper claim's falsifier and check that the claim fails under it",
        description="Run every chapter once per distinct falsifier (the parameter overrides under which a paper "
        "claim must fail) and report, per claim, its value there; exit 1 when a falsifier leaves its claim holding.")
    falsify.add_argument("--profile", choices=PROFILES, default="smoke", help="parameter set under the falsifier "
                         "(default: smoke)")
    falsify.add_argument("--chapter", nargs="+", action="extend", metavar="SLUG", help="chapters (default: all)")
    falsify.add_argument("--force", action="store_true", help="re-execute even when the result is cached")
    falsify.add_argument("--jobs", type=int, default=1, metavar="N",
                         help="falsifier runs at once (at most one per core); exclusive chapters run alone in full")
    falsify.set_defaults(func=_falsify)
    return parser


def main(argv: list[str] | None = None, project: Project | None = None) -> int:
    """Parse ``argv`` and run the command; user errors print one line and return 2."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args, project or Project())
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        kept = f"results of {', '.join(exc.finished)} are kept" if exc.finished else "no chapter had finished"
        print(f"interrupted during chapter {exc.slug} (nothing of it was kept); {kept}; "
              "rerun the same command to resume from the cache", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted; finished chapters keep their results; rerun the same command to resume from the cache",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
