from django.core.management.base import CommandError

from integrity.registry import Check, UnknownCheck, select_checks


def add_selection_arguments(parser) -> None:
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="Run only this check (a full name or an app label). Repeatable."
    )
    parser.add_argument(
        "--exclude", action="append", metavar="NAME", help="Skip this check (a full name or an app label). Repeatable."
    )


def selected_checks(options) -> list[Check]:
    try:
        return select_checks(only=options["only"], exclude=options["exclude"])
    except UnknownCheck as error:
        raise CommandError(str(error), returncode=2) from None
