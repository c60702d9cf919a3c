"""Read ``--k8s``: Kubernetes objects from a YAML or JSON file or a folder.

Shapes: ``kubectl get … -o yaml`` (a ``List`` or several ``---`` documents), ``-o json``
(a List or one object), per-kind lists (``SubnetList``), must-gather / ``oc adm inspect``
folders (``cluster-scoped-resources/kubeovn.io/<plural>/<name>.yaml``,
``namespaces/<ns>/core/pods.yaml`` …), any of them gzip-compressed.  YAML is read with the
safe loader only (no Python objects, no tags that construct anything); sizes are capped like
the database readers.  Unknown kinds are counted and skipped; a document that does not parse,
or a known kind whose fields have the wrong type, is an :class:`InputError` naming the file
and the document (and the list item).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import orjson

from ..errors import InputError
from ..sources.bounded import GzipError, GzipReader
from .model import (
    CONFIGMAPS,
    KUBEOVN_GROUP,
    Cluster,
    ConfigMap,
    IPPool,
    IPRecord,
    IptablesEIP,
    IptablesRule,
    Meta,
    Namespace,
    OvnEip,
    OvnNatRule,
    ProviderNetwork,
    Subnet,
    Vlan,
    Vpc,
    VpcNatGateway,
    Workload,
    is_kubeovn_annotation,
)

MAX_FILE = int(os.environ.get("OVNINSPECT_MAX_K8S_FILE", 512 << 20))   # decompressed bytes
MAX_FILES = 200_000
_SUFFIXES = (".yaml", ".yml", ".json")


class _Bad(Exception):
    """A field of a known kind has the wrong type (the caller names file and document)."""


# -- field access ---------------------------------------------------------------------------
def _at(doc: dict, path: str) -> Any:
    cur: Any = doc
    for part in path.split("."):
        if cur is None:
            return None
        if not isinstance(cur, dict):
            raise _Bad(f"{path}: expected an object at {part!r}, got {type(cur).__name__}")
        cur = cur.get(part)
    return cur


def _str(doc: dict, path: str) -> str:
    value = _at(doc, path)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Bad(f"{path}: expected a string, got {type(value).__name__}")
    return str(value)


def _bool(doc: dict, path: str) -> bool:
    value = _at(doc, path)
    if value is None:
        return False
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise _Bad(f"{path}: expected true or false, got {type(value).__name__}")
    return value


def _opt_bool(doc: dict, path: str) -> Optional[bool]:
    return None if _at(doc, path) is None else _bool(doc, path)


def _strs(doc: dict, path: str) -> tuple[str, ...]:
    value = _at(doc, path)
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and
                                              not isinstance(v, bool) for v in value):
        raise _Bad(f"{path}: expected a list of strings")
    return tuple(str(v) for v in value)


def _ready_condition(doc: dict) -> Optional[bool]:
    conds = _at(doc, "status.conditions")
    if conds is None:
        return None
    if not isinstance(conds, list):
        raise _Bad("status.conditions: expected a list")
    for c in conds:
        if isinstance(c, dict) and c.get("type") == "Ready":
            return str(c.get("status")) == "True"
    return None


def _meta(doc: dict, kind: str, where: str, all_annotations: bool = False) -> Meta:
    name = _str(doc, "metadata.name")
    if not name:
        raise _Bad("metadata.name is missing")
    ann = _at(doc, "metadata.annotations") or {}
    if not isinstance(ann, dict):
        raise _Bad("metadata.annotations: expected an object")
    kept = tuple(sorted((str(k), str(v)) for k, v in ann.items()
                        if all_annotations or is_kubeovn_annotation(str(k))))
    return Meta(kind, name, _str(doc, "metadata.namespace"), where, kept)


# -- one parser per kind --------------------------------------------------------------------
def _subnet(d: dict, m: Meta) -> Subnet:
    return Subnet(m, _str(d, "spec.cidrBlock"), _str(d, "spec.gateway"), _str(d, "spec.vpc"),
                  _str(d, "spec.provider"), _str(d, "spec.protocol"),
                  _strs(d, "spec.namespaces"), _strs(d, "spec.excludeIps"),
                  _str(d, "spec.vlan"), _bool(d, "spec.logicalGateway"),
                  _bool(d, "spec.u2oInterconnection"), _ready_condition(d))


def _ippool(d: dict, m: Meta) -> IPPool:
    return IPPool(m, _str(d, "spec.subnet"), _strs(d, "spec.namespaces"), _strs(d, "spec.ips"),
                  _bool(d, "spec.enableAddressSet"))


def _vpc(d: dict, m: Meta) -> Vpc:
    routes = _at(d, "spec.staticRoutes") or []
    if not isinstance(routes, list) or not all(isinstance(r, dict) for r in routes):
        raise _Bad("spec.staticRoutes: expected a list of objects")
    ready = _opt_bool(d, "status.standby")
    cond = _ready_condition(d)
    return Vpc(m, _strs(d, "spec.namespaces"), _bool(d, "spec.enableExternal"),
               _strs(d, "spec.extraExternalSubnets"),
               tuple((str(r.get("cidr", "")), str(r.get("nextHopIP", ""))) for r in routes),
               cond if cond is not None else ready, _str(d, "status.router"))


def _natgw(d: dict, m: Meta) -> VpcNatGateway:
    return VpcNatGateway(m, _str(d, "spec.vpc"), _str(d, "spec.subnet"), _str(d, "spec.lanIp"),
                         _strs(d, "spec.externalSubnets"), _str(d, "spec.namespace"))


def _iptables_eip(d: dict, m: Meta) -> IptablesEIP:
    return IptablesEIP(m, _str(d, "spec.v4ip"), _str(d, "spec.v6ip"), _str(d, "spec.macAddress"),
                       _str(d, "spec.natGwDp"), _str(d, "spec.externalSubnet"),
                       _str(d, "status.ip"), _str(d, "status.nat"),
                       _opt_bool(d, "status.ready"))


def _iptables_rule(d: dict, m: Meta) -> IptablesRule:
    internal = _str(d, "spec.internalCIDR") if m.kind == "IptablesSnatRule" else _str(
        d, "spec.internalIp")
    return IptablesRule(m, _str(d, "spec.eip"), internal, _str(d, "spec.externalPort"),
                        _str(d, "spec.internalPort"), _str(d, "spec.protocol"),
                        _opt_bool(d, "status.ready"))


def _ovn_eip(d: dict, m: Meta) -> OvnEip:
    def pick(field: str) -> str:
        return _str(d, f"status.{field}") or _str(d, f"spec.{field}")
    return OvnEip(m, _str(d, "spec.externalSubnet"), pick("v4Ip"), pick("v6Ip"),
                  pick("macAddress"), pick("type"), _str(d, "status.nat"),
                  _opt_bool(d, "status.ready"))


def _ovn_rule(d: dict, m: Meta) -> OvnNatRule:
    snat = m.kind == "OvnSnatRule"
    return OvnNatRule(
        m, _str(d, "spec.ovnEip"), _str(d, "spec.ipType"), _str(d, "spec.ipName"),
        _str(d, "spec.vpc"), _str(d, "spec.v4IpCidr" if snat else "spec.v4Ip"),
        _str(d, "spec.vpcSubnet"), _str(d, "spec.type"), _str(d, "spec.externalPort"),
        _str(d, "spec.internalPort"), _str(d, "spec.protocol"), _str(d, "status.vpc"),
        _str(d, "status.v4Eip"), _str(d, "status.v4IpCidr" if snat else "status.v4Ip"),
        _opt_bool(d, "status.ready"))


def _provider_network(d: dict, m: Meta) -> ProviderNetwork:
    return ProviderNetwork(m, _str(d, "spec.defaultInterface"), _strs(d, "spec.excludeNodes"),
                           _strs(d, "status.readyNodes"), _strs(d, "status.notReadyNodes"),
                           _opt_bool(d, "status.ready"))


def _vlan(d: dict, m: Meta) -> Vlan:
    vid = _at(d, "spec.id")
    if vid is not None and (isinstance(vid, bool) or not isinstance(vid, int)):
        raise _Bad("spec.id: expected an integer")
    return Vlan(m, vid, _str(d, "spec.provider"))


def _ip(d: dict, m: Meta) -> IPRecord:
    v4 = _str(d, "spec.v4IpAddress")
    if not v4:
        first = _str(d, "spec.ipAddress").split(",")[0].strip()
        v4 = first if ":" not in first else ""
    return IPRecord(m, _str(d, "spec.podName"), _str(d, "spec.namespace"), _str(d, "spec.subnet"),
                    _str(d, "spec.nodeName"), v4, _str(d, "spec.v6IpAddress"),
                    _str(d, "spec.macAddress"), _str(d, "spec.podType"))


def _images(d: dict) -> tuple[str, ...]:
    containers = _at(d, "spec.containers") or []
    if not isinstance(containers, list):
        raise _Bad("spec.containers: expected a list")
    return tuple(str(c.get("image")) for c in containers
                 if isinstance(c, dict) and "kube-ovn:" in str(c.get("image", "")))


def _pod(d: dict, m: Meta) -> Workload:
    return Workload(m, _str(d, "spec.nodeName"), _images(d))


def _vm(d: dict, m: Meta) -> Workload:
    ann = _at(d, "spec.template.metadata.annotations") or {}
    if not isinstance(ann, dict):
        raise _Bad("spec.template.metadata.annotations: expected an object")
    merged = dict(m.annotations)
    merged.update((str(k), str(v)) for k, v in ann.items() if is_kubeovn_annotation(str(k)))
    meta = Meta(m.kind, m.name, m.namespace, m.source, tuple(sorted(merged.items())))
    return Workload(meta, _str(d, "status.nodeName"))


def _namespace(d: dict, m: Meta) -> Namespace:
    return Namespace(m)


def _configmap(d: dict, m: Meta) -> Optional[ConfigMap]:
    if m.name not in CONFIGMAPS:
        return None
    data = _at(d, "data") or {}
    if not isinstance(data, dict):
        raise _Bad("data: expected an object")
    return ConfigMap(m, {str(k): str(v) for k, v in data.items()})


Parser = Callable[[dict, Meta], Any]
# kind -> (API group, or "" for core, or a prefix for KubeVirt), parser
PARSERS: dict[str, tuple[str, Parser]] = {
    "Subnet": (KUBEOVN_GROUP, _subnet), "IPPool": (KUBEOVN_GROUP, _ippool),
    "Vpc": (KUBEOVN_GROUP, _vpc), "VpcNatGateway": (KUBEOVN_GROUP, _natgw),
    "IptablesEIP": (KUBEOVN_GROUP, _iptables_eip),
    "IptablesFIPRule": (KUBEOVN_GROUP, _iptables_rule),
    "IptablesSnatRule": (KUBEOVN_GROUP, _iptables_rule),
    "IptablesDnatRule": (KUBEOVN_GROUP, _iptables_rule),
    "OvnEip": (KUBEOVN_GROUP, _ovn_eip), "OvnFip": (KUBEOVN_GROUP, _ovn_rule),
    "OvnSnatRule": (KUBEOVN_GROUP, _ovn_rule), "OvnDnatRule": (KUBEOVN_GROUP, _ovn_rule),
    "ProviderNetwork": (KUBEOVN_GROUP, _provider_network), "Vlan": (KUBEOVN_GROUP, _vlan),
    "IP": (KUBEOVN_GROUP, _ip), "Pod": ("", _pod), "Namespace": ("", _namespace),
    "ConfigMap": ("", _configmap),
    "VirtualMachine": ("kubevirt.io", _vm), "VirtualMachineInstance": ("kubevirt.io", _vm),
}


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


# -- documents ------------------------------------------------------------------------------
def _load_yaml_docs(text: str) -> Iterator[Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load_all(text, Loader=loader)


def _documents(text: str, name: str) -> Iterator[tuple[int, Any]]:
    """(1-based document number, parsed document)."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            yield 1, orjson.loads(stripped)
            return
        except orjson.JSONDecodeError as exc:
            if name.endswith(".json") or name.endswith(".json.gz"):
                raise InputError(name, f"document 1: not valid JSON: {exc}") from None
            # YAML flow style that is not JSON: let the YAML parser judge it
    import yaml

    index = 0
    try:
        for index, doc in enumerate(_load_yaml_docs(text), start=1):  # noqa: B007
            yield index, doc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(name, f"document {index + 1}: not valid YAML: {problem}{where}") \
            from None
    except RecursionError:
        raise InputError(name, f"document {index + 1}: nested too deeply") from None


def _objects(doc: Any, name: str, where: str, cluster: Cluster) -> None:
    if doc is None:
        return   # an empty document ("---" at the end)
    if not isinstance(doc, dict):
        raise InputError(name, f"{where}: not a Kubernetes object (a YAML/JSON "
                               f"{type(doc).__name__}, expected a mapping with kind)")
    kind = doc.get("kind")
    items = doc.get("items")
    if isinstance(kind, str) and kind.endswith("List") and items is not None:
        if not isinstance(items, list):
            raise InputError(name, f"{where}: {kind} items is not a list")
        for i, item in enumerate(items, start=1):
            _objects(item, name, f"{where} item {i}", cluster)
        return
    if not isinstance(kind, str):
        cluster.skipped["(no kind)"] = cluster.skipped.get("(no kind)", 0) + 1
        return
    known = PARSERS.get(kind)
    api = doc.get("apiVersion")
    group = _group(api) if isinstance(api, str) else None
    if known is None or group != known[0]:
        label = kind if known is None else f"{kind} ({api})"
        cluster.skipped[label] = cluster.skipped.get(label, 0) + 1
        return
    try:
        meta = _meta(doc, kind, f"{name} {where}", all_annotations=False)
        obj = known[1](doc, meta)
    except _Bad as exc:
        raise InputError(name, f"{where} ({kind}): {exc}") from None
    if obj is None:
        cluster.skipped[f"{kind} (not used)"] = cluster.skipped.get(f"{kind} (not used)", 0) + 1
    else:
        cluster.add(obj)


def _read_text(path: Path, shown: str) -> str:
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
            fh.seek(0)
            if head == b"\x1f\x8b":
                try:
                    data = GzipReader(fh, MAX_FILE).read()
                except GzipError as exc:
                    raise InputError(shown, f"gzip: {exc}") from None
            else:
                data = fh.read(MAX_FILE + 1)
    except OSError as exc:
        raise InputError(shown, exc.strerror or str(exc)) from None
    if len(data) > MAX_FILE:
        raise InputError(shown, f"larger than {MAX_FILE >> 20} MiB "
                                "(OVNINSPECT_MAX_K8S_FILE)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(shown, f"not UTF-8 text (byte {exc.start})") from None


def read_file(path: Path, shown: str, cluster: Cluster) -> None:
    text = _read_text(path, shown)
    for number, doc in _documents(text, shown):
        _objects(doc, shown, f"document {number}", cluster)
    cluster.files += 1


def _folder_files(folder: Path) -> list[Path]:
    out: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for fname in sorted(files):
            base = fname[:-3] if fname.endswith(".gz") else fname
            if not base.endswith(_SUFFIXES):
                continue
            path = Path(root) / fname
            if path.is_symlink() or not path.is_file():
                continue
            out.append(path)
            if len(out) > MAX_FILES:
                raise InputError(str(folder), f"more than {MAX_FILES} YAML/JSON files")
    return out


def load_cluster(spec: str) -> Cluster:
    """Every known object in the file or folder ``spec``."""
    path = Path(spec)
    cluster = Cluster(spec)
    try:
        is_dir = path.is_dir()
        exists = path.exists()
    except OSError as exc:
        raise InputError(spec, exc.strerror or str(exc)) from None
    if not exists:
        raise InputError(spec, "no such file or folder")
    if is_dir:
        files = _folder_files(path)
        if not files:
            raise InputError(spec, "folder holds no .yaml, .yml or .json file")
        for f in files:
            read_file(f, str(f), cluster)
    else:
        read_file(path, spec, cluster)
    return cluster


def load_text(text: str, name: str = "<text>") -> Cluster:
    """Objects from YAML/JSON text (tests, library use)."""
    cluster = Cluster(name)
    for number, doc in _documents(io.StringIO(text).read(), name):
        _objects(doc, name, f"document {number}", cluster)
    return cluster
