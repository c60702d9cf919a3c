"""One place that gives every question command its shared options, loads the topology,
answers, compares with ``--against`` and prints.

A question command is a function of its own options that returns an *asker*: a function
of a Topology (or, for ``info``, a Snapshot) that returns an Answer.  ``question(...)``
appends the ovn-nbctl-style options every command takes to its signature (typer reads
options from it), builds :class:`common.Inputs`, asks the new snapshot, and, with
``--against OLD``, the old one too, printing only what differs.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Optional

from ..answers.model import Answer
from . import common

# name -> (annotation, typer option); every question command gets these, in this order
SHARED: dict[str, tuple[Any, Any]] = {
    "db": (Optional[str], common.DB),
    "sb": (Optional[str], common.SB),
    "fmt": (str, common.FORMAT),
    "wide": (bool, common.WIDE),
    "against": (Optional[str], common.AGAINST),
    "against_sb": (Optional[str], common.AGAINST_SB),
    "fail_on_change": (bool, common.FAIL_ON_CHANGE),
    "ovn_version": (Optional[str], common.OVN_VERSION),
    "private_key": (Optional[str], common.PRIVATE_KEY),
    "certificate": (Optional[str], common.CERTIFICATE),
    "ca_cert": (Optional[str], common.CA_CERT),
    "timeout": (float, common.TIMEOUT),
    "allow_truncated": (bool, common.ALLOW_TRUNCATED),
    "verify": (bool, common.VERIFY),
    "k8s": (Optional[str], common.K8S),
}
TOPOLOGY_ONLY = ("sb", "ovn_version", "against_sb")

Asker = Callable[[Any], Answer]


def question(*, on_snapshot: bool = False, tables: Optional[dict] = None,
             always_verify: bool = False, lazy: Optional[dict] = None
             ) -> Callable[[Callable[..., Any]], Callable]:
    """Make a question command: the decorated function takes the command's own options
    and returns an asker (or an Answer, to print as is: ``check --list-rules``).
    ``on_snapshot``: the asker takes the NB (``--sb-role``: SB) snapshot, not a topology;
    ``always_verify``: every row is checked whatever ``--verify`` says (``info``);
    ``tables``/``lazy``: what a live read fetches, and what it leaves until first used
    (sources.LoadOptions)."""
    shared = {k: v for k, v in SHARED.items()
              if not (on_snapshot and k in TOPOLOGY_ONLY)}

    def make(func: Callable[..., Any]) -> Callable:
        own = inspect.signature(func, eval_str=True).parameters
        params = list(own.values()) + [
            inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=opt, annotation=ann)
            for k, (ann, opt) in shared.items()]

        @functools.wraps(func)
        @common.handle_errors
        def command(**kwargs: Any) -> None:
            opts = {k: kwargs.pop(k) for k in shared}
            opts["verify"] = opts["verify"] or always_verify
            common.check_format(opts["fmt"])
            asker = func(**kwargs)
            if isinstance(asker, Answer):
                _finish(asker, opts["fmt"], opts["wide"])
                return
            role = "sb" if kwargs.get("sb_role") else "nb"
            cluster: dict[str, Any] = {}  # --k8s is read once, for --db and --against
            new = _ask(asker, opts, opts["db"], opts.get("sb"), on_snapshot, role, tables,
                       cluster, lazy)
            if opts["against"] is None:
                _finish(new, opts["fmt"], opts["wide"])
                return
            old = _ask(asker, opts, opts["against"], opts.get("against_sb"), on_snapshot,
                       role, tables, cluster, lazy)
            from ..answers.diff import diff_answer  # --against only

            answer = diff_answer([(old, new)], opts["against"], opts["db"] or "",
                                 opts["fail_on_change"])
            _finish(answer, opts["fmt"], opts["wide"])

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return make


def _ask(asker: Asker, opts: dict[str, Any], db: Optional[str], sb: Optional[str],
         on_snapshot: bool, role: str, tables: Optional[dict],
         cluster: Optional[dict[str, Any]] = None, lazy: Optional[dict] = None) -> Answer:
    inputs = common.Inputs(db, sb, opts["fmt"], opts["private_key"], opts["certificate"],
                           opts["ca_cert"], opts["timeout"], opts["allow_truncated"],
                           opts.get("ovn_version"), verify=opts["verify"], k8s=opts["k8s"])
    if cluster is not None:
        inputs.cluster = cluster.get("value")
    if on_snapshot:
        answer = asker(common.load_snapshot(db, role, inputs, tables))
        k8s = common.load_k8s(inputs)
        if k8s is not None:
            from ..answers.info import add_k8s

            add_k8s(answer, k8s)
    else:
        # tables the asker reads whole anyway are parsed once, at open
        answer = asker(common.load_topology(inputs, getattr(asker, "reads", ()), lazy))
    if cluster is not None:
        cluster["value"] = inputs.cluster
    return answer


def _finish(answer: Answer, fmt: str, wide: bool) -> None:
    common.emit(answer, fmt, wide)
    if answer.exit_code:
        raise SystemExit(answer.exit_code)
