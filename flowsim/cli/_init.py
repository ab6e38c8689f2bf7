"""``flowsim init FILE``: write a commented scenario template that runs as it is."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..exceptions import OutputError

TEMPLATE = "scenario_template.toml"


def register(sub) -> None:
    p = sub.add_parser(
        "init", help="write a commented scenario template (TOML)",
        description="Write a commented TOML scenario file that starts from a built-in scenario and runs as it "
                    "is; every section it can change is shown, commented out. Refuses to overwrite a file "
                    "unless --force. See docs/scenarios.md.",
    )
    p.add_argument("file", help="the file to write, e.g. my.toml")
    p.add_argument("--base", default="kazakhstan-2022", metavar="SCENARIO",
                   help="built-in scenario to start from (default kazakhstan-2022; see `flowsim list`)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=_cmd_init)


def template_text(path: Path, base: str) -> str:
    """The template for ``path`` starting from built-in ``base``."""
    text = resources.files("flowsim.data").joinpath(TEMPLATE).read_text(encoding="utf-8")
    return text.format(name=path.stem, filename=path.name, base=base)


def _cmd_init(args) -> int:
    from .._atomic import atomic_write_text
    from ..scenario.files import scenario_from_toml
    from ..scenario.library import load_scenario

    path = Path(args.file)
    if path.suffix != ".toml":
        raise OutputError(f"{path}: a scenario file must end in .toml.")
    if path.exists() and not args.force:
        raise OutputError(f"{path}: exists; pass --force to overwrite it.")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist; create it first.")
    load_scenario(args.base)  # an unknown base fails here, before anything is written
    text = template_text(path, args.base)
    scenario_from_toml(text, origin=str(path), base_dir=path.parent, default_name=path.stem)  # it must run
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror}).") from None
    print(f"wrote {path} (base {args.base}); run it with: python -m flowsim run {path} --out out/{path.stem}")
    return 0
