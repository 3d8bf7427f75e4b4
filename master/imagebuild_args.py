"""The options of `master image build` (kept apart: `master` parses them on every
call, and the builder itself imports much more)."""

from __future__ import annotations

import argparse
from typing import Any

from common import highstate


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """`master image build` (called from master.cli)."""
    image = sub.add_parser("image", parents=[common], help="build Docker images from formulas")
    image_sub = image.add_subparsers(dest="image_command", required=True, metavar="ACTION")
    build = image_sub.add_parser(
        "build", parents=[common],
        help="apply formulas in a container from an image and commit the result",
        description="Start a container from IMAGE, let its minion join this master with a "
                    "one-use token, apply the formulas and commit the container as NAME:TAG. "
                    "The master must listen on the Docker bridge gateway or 0.0.0.0.")
    build.add_argument("--from", dest="base", required=True, metavar="IMAGE",
                       help="base image with saline's minion installed (e.g. saline/minion)")
    build.add_argument("--apply", required=True, metavar="SLS[,SLS]",
                       help="formulas to apply, comma-separated")
    build.add_argument("--tag", required=True, metavar="NAME:TAG", help="the image to make")
    build.add_argument("--pillar", action="append", default=[], metavar="KEY=VALUE",
                       help="pillar for the run (repeatable; nested keys with ':', "
                            "values typed like CLI arguments)")
    build.add_argument("--saltenv", default="base", help="file_roots environment (default base)")
    build.add_argument("--cmd", help="CMD of the image: a JSON list or a command line "
                                     "(default: the base image's)")
    build.add_argument("--entrypoint", help="ENTRYPOINT of the image: a JSON list or a "
                                            "command line, '' for none (default: the base's)")
    build.add_argument("--expose", action="append", default=[], metavar="PORT[/PROTO]",
                       help="port the image exposes (repeatable)")
    build.add_argument("--keep-minion", action="store_true",
                       help="keep the build minion's keys, cache and config in the image")
    build.add_argument("--test", action="store_true",
                       help="apply with test=True and commit nothing")
    build.add_argument("-t", "--timeout", type=float, default=600.0,
                       help="seconds to wait for the state run (default 600)")
    highstate.add_options(build)
