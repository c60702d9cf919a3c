"""``ovninspect info``: what a source is and what it holds."""

from __future__ import annotations

from .options import Option

# live: row counts need only the UUIDs (and the global row for versions)
INFO_TABLES = {"*": [], "NB_Global": None, "SB_Global": None}
# factory.question options (cli.COMMANDS): every row is checked whatever --verify says
QUESTION = {"on_snapshot": True, "tables": INFO_TABLES, "always_verify": True}


def info(sb_role: bool = Option(False, "--sb-role", help="Read the source as a Southbound DB.")):
    """Show what a source is: format, schema, OVN version and rules, raft state, rows per
    table.  Every row of every table is checked as ovsdb-server does.

    Examples:

      ovninspect info --db ovnnb_db.db

      ovninspect info --db must-gather.local/ --format json

      ovninspect info --db unix:/var/run/ovn/ovnsb_db.sock --sb-role
    """
    from ..answers.info import info_answer

    return info_answer
