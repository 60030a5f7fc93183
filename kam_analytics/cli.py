"""The command line (docs/data.md "Command line": a stable contract). argparse over the
report functions; output as table, csv, json or xlsx. Exit codes: errors.ExitCode."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .catalogue import SPECS as REPORTS, TEMPLATE_KINDS
from .errors import ExitCode, InputError, KamError, UsageError

# db, exports and formatting (DuckDB, pandas) are loaded by run() once the arguments are read:
# `--help` and a usage error never load them (bench/cli.py measures it).
db = exports = formatting = None  # type: ignore[assignment]

FORMATS = ("table", "csv", "json", "xlsx")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # wrong usage: one line on stderr, exit 2
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(ExitCode.USAGE)


def _output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output (xlsx needs it)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kam" if Path(sys.argv[0]).name == "kam" else "python -m kam_analytics",   # .venv/bin/kam or -m
        description="KAM Analytics: key-account and deal-plan analytics on DuckDB.",
    )
    parser.add_argument("--db", metavar="PATH", help="database file (default: $KAM_DB, else data/kam.duckdb)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("demo", help="load the generated demo data")
    p.add_argument("--deals", type=int, default=5000, help="number of deals (default 5000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--if-empty", action="store_true", help="load only when the database holds no deals; else do nothing")

    p = sub.add_parser("import", help="import csv/tsv/txt/xlsx/xlsm/xls/ods files as one batch")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--keep-good-rows", action="store_true",
                   help="load the good rows even when some rows are bad (default: any bad row rejects the batch)")
    p.add_argument("--snapshot-date", metavar="DATE",
                   help="the date of a deals export (its snapshot); default: a date in the file's banner or name, "
                        "else today")
    p.add_argument("--mapping", metavar="FILE.json",
                   help='override detection: {"<file name or *>": {"kind": "deals", "columns": {"<header>": "<field>"}, '
                        '"date_formats": {"<header>": "dmy"}}}')
    p.add_argument("--currency", metavar="CUR",
                   help="the currency (a three-letter code such as USD) of every file of the command that has amounts "
                        "but no currency column; a file's own currency column wins (default: the settings currency)")
    demo_choice = p.add_mutually_exclusive_group()
    demo_choice.add_argument("--replace-demo", dest="demo_data", action="store_const", const="replace",
                             help="the database holds the demo data: start clean, the demo's rows removed in this "
                                  "import's batch (undoing it brings them back)")
    demo_choice.add_argument("--keep-demo", dest="demo_data", action="store_const", const="keep",
                             help="the database holds the demo data: load your rows beside the demo's")

    p = sub.add_parser("template", help="write a blank template to fill in (xlsx)")
    p.add_argument("kind", choices=list(TEMPLATE_KINDS), metavar="KIND", help=", ".join(TEMPLATE_KINDS))
    p.add_argument("-o", "--output", metavar="FILE.xlsx", required=True)
    p.add_argument("--lang", choices=("en", "it"), default="en")

    sub.add_parser("batches", help="import history (every load, settings save and undo)")

    p = sub.add_parser("undo", help="undo a batch (see `batches`)")
    p.add_argument("batch_id", type=int, metavar="BATCH_ID")
    p.add_argument("--cascade", action="store_true", help="also undo the later batches that changed its rows")

    p = sub.add_parser("report", help="print a report", description="Reports: " + ", ".join(REPORTS))
    reports = p.add_subparsers(dest="report", metavar="NAME", parser_class=_Parser)
    reports.required = True
    for report in REPORTS.values():
        text = report.help.replace("%", "%%")      # argparse formats help with %
        rp = reports.add_parser(report.name, help=text, description=text)
        for opt in report.options:
            if opt.flag_only:
                rp.add_argument(opt.flag, dest=opt.dest, action="store_true", help=opt.help.replace("%", "%%"))
            else:
                rp.add_argument(opt.flag, dest=opt.dest, choices=opt.choices, default=opt.default,
                                help=opt.help.replace("%", "%%"))
        rp.add_argument("--as-of", dest="as_of", metavar="DATE", help="as of the start of this day (default: the data's date)")
        _output_options(rp)
    p = sub.add_parser("plan", help="generate an open deal's closing plan, dated from the data",
                       description="The closing plan of an open deal (docs/metrics.md \"Closing plan generator\"): "
                                   "the rest of its current stage, the later stages most comparable won deals "
                                   "passed through and the mutual-plan template's steps, each with a due date. "
                                   "--format xlsx writes the mutual-action-plan template's shape, which imports back.")
    p.add_argument("deal_id", metavar="DEAL_ID")
    p.add_argument("--as-of", dest="as_of", metavar="DATE", help="as of the start of this day (default: the data's date)")
    p.add_argument("--stat", choices=("median", "mean"), default="median",
                   help="which figure of each stage's time dates the steps (default: median)")
    p.add_argument("--lang", choices=("en", "it"), default="en", help="language of the xlsx (default: en)")
    _output_options(p)
    p = sub.add_parser("handoff", help="write the onboarding hand-off of a won deal (xlsx)",
                       description="The customer-success hand-off of a won deal: the problem, the proposed solution, "
                                   "the buyer's stakeholders from the account map, the plan's steps and dates, the "
                                   "commitments still open, and the amount and close date, as one workbook.")
    p.add_argument("deal_id", metavar="DEAL_ID")
    p.add_argument("-o", "--output", metavar="FILE.xlsx", required=True)
    p = sub.add_parser("account-plan", help="write an account's plan as the template workbook, with its numbers (xlsx)",
                       description="The account plan template filled with the account's plan, action plan, goals "
                                   "(with actual and progress from the deals) and account map, plus a Numbers sheet "
                                   "(value of the last 12 months, open pipeline, potential, coverage) as of --as-of. "
                                   "It imports back.")
    p.add_argument("account", metavar="ACCOUNT", help="the account's ID or name")
    p.add_argument("-o", "--output", metavar="FILE.xlsx", required=True)
    p.add_argument("--lang", choices=("en", "it"), default="en", help="language of the template (default: en)")
    p.add_argument("--as-of", dest="as_of", metavar="DATE", help="the numbers as of this day (default: the data's date)")

    p = sub.add_parser("backup", help="write the whole database to a zip (csv or parquet per table, with the schema "
                                      "version)")
    p.add_argument("-o", "--output", metavar="FILE.zip", required=True)
    p.add_argument("--format", choices=("csv", "parquet"), default="csv",
                   help="csv (opens anywhere; text a spreadsheet would run gets a leading ') or parquet (exact types)")
    p = sub.add_parser("restore", help="replace the whole database with a backup zip (one transaction)")
    p.add_argument("file", metavar="FILE.zip")
    p.add_argument("--replace", action="store_true", help="replace a database that holds data (all of it)")
    p = sub.add_parser("forget", help="remove a person (stakeholder, owner) everywhere their name is written",
                       description="Deletes the person's own rows (stakeholders, owners) and writes 'removed person N' "
                                   "wherever else the name is (owners of deals and plans, managers, reports-to, "
                                   "forecast calls, quotas, notes, the import log), as one batch that keeps no copy "
                                   "of the name and cannot be undone. Without --yes it lists the places only.")
    p.add_argument("name", metavar="NAME", help="the person's name as written (case and spacing ignored)")
    p.add_argument("--yes", action="store_true", help="remove it (without: list where the name is, change nothing)")
    sub.add_parser("hash-password", help="read a password (typed, or from standard input) and print its bcrypt hash "
                                         "for .streamlit/secrets.toml or $KAM_USERS")
    return parser


def _data_commands(path, args) -> int:
    """backup, restore and forget: the whole database, and the people in it."""
    from . import backup, people  # loaded when the command runs: --help stays light

    if args.command == "backup":
        m = backup.export(path, Path(args.output), args.format)   # a folder gets a default file name
        rows = sum(m["tables"].values())
        sys.stdout.write(f"wrote {len(m['tables'])} tables ({rows:,} rows, {args.format}, schema "
                         f"{m['schema_version']}) to {m['file']}\n")
    elif args.command == "restore":
        m = backup.restore(path, Path(args.file), replace=args.replace)
        sys.stdout.write(f"restored {sum(m['tables'].values()):,} rows in {len(m['tables'])} tables from {args.file} "
                         f"(backup of {m.get('created_at', '?')}, schema {m['schema_version']})\n")
    else:
        if not args.yes:
            with db.read(path, must_exist=True) as con:
                found = people.places(con, args.name)
                others = people.other_spellings(con, args.name)
            if not found:
                _other_spellings(others, path)
                raise InputError(f"the name {args.name!r} is not in the database: nothing to remove")
            for f in found:
                sys.stdout.write(f"  {f['table']}.{f['column']}: {f['rows']:,} row(s), {f['change']}\n")
            sys.stdout.write("nothing changed: run again with --yes to remove the name everywhere (it cannot be "
                             "undone)\n")
            _other_spellings(others, path)
            return ExitCode.OK
        done = people.forget(path, args.name)
        sys.stdout.write(f"removed everywhere as batch {done.batch_id}: {done.rows:,} row(s) in "
                         f"{len({f['table'] for f in done.places})} table(s); the name now reads "
                         f"'{done.pseudonym}'\n")
        sys.stdout.write(f"the database file was rebuilt in {done.rebuild_seconds:.1f} s: no old copy of the name "
                         "stays in its free space\n")
        if done.files_deleted:
            sys.stdout.write(f"deleted {len(done.files_deleted)} kept upload(s) that held the name: "
                             f"{', '.join(done.files_deleted)}\n")
        _other_spellings(done.other_spellings, path)
    return ExitCode.OK


def _other_spellings(others: list[dict], path) -> None:
    """The likely other spellings of a name, for the user to confirm (forget leaves them)."""
    if not others:
        return
    import shlex

    sys.stdout.write("other spellings that may be the same person (not changed; check each, and forget it too "
                     "if it is):\n")
    for o in others:
        sys.stdout.write(f"  {o['spelling']!r}: {o['rows']:,} row(s) in {o['where']}  ->  python -m kam_analytics "
                         f"--db {shlex.quote(str(path))} forget {shlex.quote(o['spelling'])} --yes\n")


def _plan(path, args) -> int:
    from . import closing_plan  # loaded when the command runs: --help stays light

    with db.read(path, must_exist=True) as con:
        df = closing_plan.generate(con, args.deal_id, as_of=args.as_of, stat=args.stat)
    a = df.attrs
    if args.format == "xlsx":
        if not args.output:
            raise UsageError("--format xlsx needs -o FILE")
        _write(args.output, closing_plan.to_workbook(df, lang=args.lang))
        sys.stdout.write(f"wrote the closing plan of {a['deal_id']} ({len(df)} steps) to {args.output}\n")
        return ExitCode.OK
    if args.format == "table":
        gap = a["gap_days"]
        lines = [
            f"Closing plan of {a['deal_id']}" + (f" – {a['deal_name']}" if a["deal_name"] else ""),
            f"  stage {a['stage']} for {formatting.days(a['stage_age_days'])} days, as of {formatting.when(a['as_of'])}; "
            f"dated by the {a['stat']} of {a['basis']} ({a['revisits']} revisits)",
            f"  realistic close date {formatting.when(a['realistic_close_date'])} (likely "
            f"{formatting.when(a['likely_close_from'])} to {formatting.when(a['likely_close_to'])}); "
            f"owner's close date {formatting.when(a['owner_close_date'])}"
            + ("" if gap is None else f", gap {int(gap):+,} days"),
            "",
        ]
        shown = df[["step_no", "step", "stage", "side", "owner", "due_date", "cumulative_days", "stage_days",
                    "stage_deals"]]
        text = "\n".join(lines) + formatting.table_text(shown) + "\n"
        for note in a["notes"]:
            sys.stderr.write(f"# {note}\n")
        if args.output:
            _write(args.output, text)
        else:
            sys.stdout.write(text)
        return ExitCode.OK
    _notes(df)
    _emit(df, args.format, args.output, "plan")
    return ExitCode.OK


def _write(output: str, data: bytes | str) -> None:
    """Every file the CLI writes (-o): a path that cannot be written is one clear message."""
    try:
        target = Path(output)
        target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None


def _emit(df, fmt: str, output: str | None, sheet: str) -> None:
    if fmt == "xlsx":
        if not output:
            raise UsageError("--format xlsx needs -o FILE")
        frames = {sheet: df, "About": exports.about_frame(df.attrs)}
        _write(output, exports.to_xlsx(frames))
        return
    if fmt == "json":
        text = exports.to_json(df) + "\n"
    elif fmt == "csv":
        text = exports.to_csv(df)
    else:
        text = formatting.table_text(df) + "\n"
    if output:
        _write(output, text)
    else:
        sys.stdout.write(text)


def _notes(df) -> None:
    attrs = df.attrs
    head = []
    if attrs.get("as_of") is not None:
        head.append(f"as of {formatting.when(attrs['as_of'])}")
    for k in ("revisits", "outcome", "by"):
        if attrs.get(k):
            head.append(f"{k} {attrs[k]}")
    if head:
        sys.stderr.write("# " + ", ".join(head) + "\n")
    for note in attrs.get("notes", []):
        sys.stderr.write(f"# {note}\n")


def run(argv: list[str] | None = None) -> int:
    global db, exports, formatting
    args = build_parser().parse_args(argv)
    from . import db, exports, formatting  # noqa: F811 - after the arguments: a light --help (see the top)
    if args.db is not None and not args.db.strip():
        raise UsageError("--db: expected the path of a database file, got an empty name (leave --db out to use "
                         "$KAM_DB, else data/kam.duckdb)")
    path = db.db_path(args.db)
    if path.is_dir():
        raise UsageError(f"--db {path}: this is a folder; expected the path of a database file such as "
                         f"{path / 'kam.duckdb'}")
    from .backup import clean_leftovers  # loaded when the command runs: --help stays light

    clean_leftovers(path)       # what a killed restore or file rebuild left beside the database

    if args.command == "demo":
        from . import demo  # loaded when the command runs: --help stays light

        if args.deals < 1:
            raise UsageError("--deals: expected a positive number of deals")
        result = demo.load(path, deals=args.deals, seed=args.seed, if_empty=args.if_empty)
        sys.stdout.write(result + "\n")
        return ExitCode.OK

    if args.command == "import":
        return _import(path, args)

    if args.command == "template":
        from . import stage_list, templates  # loaded when the command runs: --help stays light

        stages = None
        if path.exists():   # the saved (or inferred) stage list feeds the drop-downs

            with db.read(path) as con:
                stages = list(stage_list.stage_config(con).stages) or None
        _write(args.output, templates.build(args.kind, args.lang, stages))
        sys.stdout.write(f"wrote the {args.kind} template ({args.lang}) to {args.output}\n")
        return ExitCode.OK

    if args.command == "batches":
        from .batches import list_batches  # loaded when the command runs: --help stays light

        with db.read(path, must_exist=True) as con:
            df = list_batches(con)
        sys.stdout.write(formatting.table_text(df) + "\n")
        return ExitCode.OK

    if args.command == "undo":
        from .batches import undo  # loaded when the command runs: --help stays light

        done = undo(path, args.batch_id, cascade=args.cascade)
        sys.stdout.write(f"undone: batch(es) {', '.join(map(str, done))}\n")
        return ExitCode.OK

    if args.command == "plan":
        return _plan(path, args)

    if args.command in ("backup", "restore", "forget"):
        return _data_commands(path, args)

    if args.command == "hash-password":
        import getpass

        from . import auth  # loaded when the command runs: --help stays light

        password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        sys.stdout.write(auth.hash_password(password) + "\n")
        return ExitCode.OK

    if args.command == "handoff":
        from .reports import mutual_plans  # loaded when the command runs: --help stays light

        with db.read(path, must_exist=True) as con:
            frames = mutual_plans.handoff(con, args.deal_id)
        _write(args.output, mutual_plans.handoff_workbook(frames))
        sys.stdout.write(f"wrote the onboarding hand-off of {args.deal_id} ({len(frames['Plan steps'])} steps, "
                         f"{len(frames['Open commitments'])} still open, {len(frames['Stakeholders'])} stakeholders) "
                         f"to {args.output}\n")
        return ExitCode.OK

    if args.command == "account-plan":
        from .reports import accounts  # loaded when the command runs: --help stays light

        with db.read(path, must_exist=True) as con:
            account_id = accounts.resolve(con, args.account)
            data = accounts.account_plan_workbook(con, account_id, args.lang, args.as_of)
        _write(args.output, data)
        sys.stdout.write(f"wrote the account plan of {account_id} to {args.output}\n")
        return ExitCode.OK

    if args.command == "report":
        from .reports import get  # loaded when the command runs: --help stays light

        report = get(args.report)
        kwargs = {o.dest: getattr(args, o.dest) for o in report.options}
        with db.read(path, must_exist=True) as con:
            df = report.func(con, as_of=args.as_of, **kwargs)
        _notes(df)
        _emit(df, args.format, args.output, report.name)
        return ExitCode.OK
    raise UsageError(f"unknown command {args.command!r}")


def _import(path, args) -> int:
    import json

    from .importing.run import import_files  # loaded when the command runs: --help stays light

    for f in args.files:    # before any reading: a device or a pipe would be read for ever
        fp = Path(f)
        if fp.exists() and not fp.is_file():
            raise InputError(f"{f}: this is a folder, not a file; name the files to import" if fp.is_dir() else
                             f"{f}: not a regular file (a device, a pipe or a socket); expected a csv, tsv, txt, "
                             "xlsx, xlsm, xls or ods file")
    overrides = None
    if args.mapping:
        try:
            overrides = json.loads(Path(args.mapping).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"--mapping {args.mapping}: cannot read it as JSON ({exc})") from None
        if not isinstance(overrides, dict):
            raise UsageError('--mapping: expected a JSON object such as {"file.csv": {"kind": "deals"}}')
    from .dates import parse_date  # loaded when the command runs: --help stays light

    currency = None
    if args.currency is not None:
        import pandas as pd

        from .importing.coerce import to_currency  # loaded when the command runs: --help stays light

        code = to_currency(pd.Series([args.currency], dtype="string"))
        if code.bad.iloc[0] or pd.isna(code.values.iloc[0]):
            raise UsageError(f"--currency: expected {code.expected}, got {args.currency!r}")
        currency = str(code.values.iloc[0])
    result = import_files(path, [Path(f) for f in args.files], keep_good_rows=args.keep_good_rows,
                          overrides=overrides, snapshot_date=parse_date(args.snapshot_date, "--snapshot-date"),
                          currency=currency, demo_data=args.demo_data)
    for r in result.files:
        where = f"{r.file}" + (f", sheet {r.sheet!r}" if r.sheet else "") + (f", header row {r.header_row}" if r.header_row else "")
        sys.stdout.write(f"{where}: {r.mapping or 'not read'}\n")
        if r.kind and result.status != "rejected":
            sys.stdout.write(f"  {r.rows:,} rows: {r.new:,} new, {r.changed:,} changed, {r.unchanged:,} unchanged, "
                             f"{r.rejected:,} rejected\n")
        for note in r.notes:
            sys.stdout.write(f"  note: {note}\n")
    out = sys.stdout if result.status != "rejected" else sys.stderr
    if len(result.rejects):
        shown = result.rejects.head(20)
        sys.stderr.write("bad values:\n")
        for row in shown.itertuples(index=False):
            loc = ", ".join(x for x in (row.file_name, f"sheet {row.sheet!r}" if isinstance(row.sheet, str) and row.sheet else None,
                                        f"row {row.row_number}" if row.row_number == row.row_number and row.row_number is not None else None,
                                        f"column {row.column_name!r}" if isinstance(row.column_name, str) and row.column_name else None) if x)
            value = f" value {row.value!r}:" if isinstance(row.value, str) else ""
            sys.stderr.write(f"  {loc}:{value} {row.reason}\n")
        if len(result.rejects) > len(shown):
            sys.stderr.write(f"  … and {len(result.rejects) - len(shown):,} more (all kept in the import log)\n")
    out.write(("error: " if result.status == "rejected" else "") + result.message + "\n")
    return ExitCode.INPUT if result.status == "rejected" else ExitCode.OK


def main(argv: list[str] | None = None) -> int:
    try:
        return int(run(argv))
    except SystemExit as exc:  # argparse: --help (0) or usage (2)
        return int(exc.code or 0)
    except KamError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return int(ExitCode.INPUT)
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # never a traceback for a user
        if os.environ.get("KAM_DEBUG"):
            raise
        sys.stderr.write(
            f"error: unexpected failure ({type(exc).__name__}: {exc}). "
            "Run again with KAM_DEBUG=1 to see the details.\n"
        )
        return int(ExitCode.INPUT)
