"""The one pattern every model genlab ships follows: where it lives, how it is built, checked, loaded and described,
and its command line, written once.

A recipe module holds what differs (its data, its training call, its manifest, its card) and ends with::

    RECIPE = ShippedModel(name="genlab-...", module="genlab.recipes.<recipe>", description=..., build_fn=_build, ...)
    main = RECIPE.main

so that every recipe answers ``python -m genlab.recipes.<recipe> build [--fresh]`` and ``check [--quick]`` the same
way: ``build`` prints what the build measured and returns 0 (3 when it stopped early at a checkpoint, to be resumed);
``check`` prints each problem, then ``consistent`` (exit 0) or ``N problem(s)`` (exit 1).

>>> r = ShippedModel(name="demo", module="genlab.recipes.demo", description="A demo.", build_fn=lambda out, **_: {})
>>> r.build_command, r.folder.name
('python -m genlab.recipes.demo build', 'demo')
>>> r.check() if not r.is_built() else ["built"]
['no model at ... build it with `python -m genlab.recipes.demo build`']
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genlab.core.paths import data_dir

__all__ = ["Command", "Option", "ShippedModel"]


@dataclass(frozen=True)
class Option:
    """An extra flag of a recipe's ``build`` command: the arguments of ``argparse``'s ``add_argument``."""

    flags: tuple[str, ...]
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Command:
    """A recipe's own subcommand besides ``build`` and ``check`` (the default model's ``measure``)."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], int]  # the parsed arguments -> exit status
    options: Sequence[Option] = ()


@dataclass(frozen=True)
class ShippedModel:
    """A model genlab ships under ``data/models/<name>/``, and the recipe that builds it."""

    name: str  # the model's name and its folder under data/models/
    module: str  # the recipe's module: `python -m <module> build` builds it
    description: str  # one line, for the command line's help
    build_fn: Callable[..., dict]  # (out_dir, *, fresh, **build options) -> the manifest written
    check_fn: Callable[..., list[str]] | None = None  # (folder, *, quick) -> problems; None: "is it built?" only
    load_fn: Callable[..., Any] | None = None  # (folder, *, device) -> the model; None: load_model
    card_fn: Callable[[dict], str] | None = None  # manifest -> README.md; None: the card is written by hand
    marker: str = "model.safetensors"  # the file whose presence means "built"
    noun: str = "model"  # what a missing-model error calls it
    build_time: str = ""  # how long a build takes, for the missing-model error
    build_options: Sequence[Option] = ()  # the build command's flags besides --out and --fresh
    printed: Sequence[str] = ()  # the manifest entries the build command prints
    commands: Sequence[Command] = ()  # the recipe's own subcommands
    fresh_help: str = "delete earlier checkpoints and train from scratch"
    quick_help: str = "consistency only: skip the measured targets"

    @property
    def folder(self) -> Path:
        """``data/models/<name>``."""
        return data_dir() / "models" / self.name

    @property
    def build_command(self) -> str:
        return f"python -m {self.module} build"

    def is_built(self, folder: str | Path | None = None) -> bool:
        return (Path(folder or self.folder) / self.marker).is_file()

    def missing(self, folder: str | Path | None = None) -> str:
        """The message of a missing model: where it was looked for and the command that builds it."""
        hint = f" ({self.build_time})" if self.build_time else ""
        return f"no {self.noun} at {folder or self.folder}: build it with `{self.build_command}`{hint}"

    def build(self, out_dir: str | Path | None = None, *, fresh: bool = False, **options) -> dict:
        """Build the model into ``out_dir`` (default :attr:`folder`) and return its manifest. Builds that checkpoint
        resume from their newest checkpoint unless ``fresh``."""
        return self.build_fn(Path(out_dir or self.folder), fresh=fresh, **options)

    def check(self, quick: bool = False) -> list[str]:
        """Problems between the shipped model and what the code generates now (empty: consistent); ``quick`` skips
        the measured targets where the recipe has some."""
        if not self.is_built():
            return [self.missing()]
        return self.check_fn(self.folder, quick=quick) if self.check_fn is not None else []

    def load(self, folder: str | Path | None = None, *, device: str = "auto"):
        """The built model (default: the shipped one); a ``FileNotFoundError`` names the build command when it is
        missing."""
        folder = Path(folder) if folder is not None else self.folder
        if not self.is_built(folder):
            raise FileNotFoundError(self.missing(folder))
        if self.load_fn is None:
            from genlab.models.loading import load_model

            return load_model(str(folder), device=device)
        return self.load_fn(folder, device=device)

    def write_card(self, manifest: dict | None = None, folder: str | Path | None = None) -> Path:
        """Write ``README.md`` of the model in ``folder`` (default :attr:`folder`) from ``manifest`` (default: the
        folder's ``manifest.json``); returns its path."""
        folder = Path(folder or self.folder)
        if self.card_fn is None:
            raise ValueError(f"the card of {self.name} is written by hand: edit {folder / 'README.md'}")
        if manifest is None:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        path = folder / "README.md"
        path.write_text(self.card_fn(manifest), encoding="utf-8")
        return path

    def main(self, argv: list[str] | None = None) -> int:
        """The command line: ``build [--out DIR] [--fresh] [options]``, ``check [--quick]`` and the recipe's own
        commands."""
        parser = argparse.ArgumentParser(prog=f"python -m {self.module}", description=self.description)
        sub = parser.add_subparsers(dest="command", required=True)
        b = sub.add_parser("build", help=f"build {self.name} into {self.folder}")
        b.add_argument("--out", type=Path, default=None, help=f"output folder (default: data/models/{self.name})")
        b.add_argument("--fresh", action="store_true", help=self.fresh_help)
        for option in self.build_options:
            b.add_argument(*option.flags, **option.kwargs)
        c = sub.add_parser("check", help=f"check {self.name} against the code that builds it")
        c.add_argument("--quick", action="store_true", help=self.quick_help)
        for command in self.commands:
            p = sub.add_parser(command.name, help=command.help)
            for option in command.options:
                p.add_argument(*option.flags, **option.kwargs)
        args = parser.parse_args(argv)
        for command in self.commands:
            if args.command == command.name:
                return command.run(args)
        if args.command == "build":
            options = {k: v for k, v in vars(args).items() if k not in ("command", "out", "fresh")}
            manifest = self.build(args.out, fresh=args.fresh, **options)
            if manifest.get("status") == "interrupted":
                print(f"stopped at step {manifest['steps']} of {manifest['of_steps']} ({manifest['stopped_by']}); "
                      f"run `{self.build_command}` again to resume")  # fmt: skip
                return 3
            print(json.dumps({k: manifest[k] for k in self.printed}, indent=1))
            return 0
        problems = self.check(quick=args.quick)
        for p in problems:
            print("problem:", p)
        print("consistent" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
