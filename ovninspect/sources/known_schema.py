"""Column types for JSON exports, which carry no schema (``dump -f json``, ``nbctl list``).

Order of preference: the schema installed with OVN (``/usr/share/ovn``), then the compact
table below (the columns ovninspect reads, where a bare atom would be ambiguous), then
inference from the values themselves.

Notation: ``s`` string, ``i`` integer, ``b`` boolean, ``u`` uuid; ``?`` optional (0..1);
``[x]`` set (``[x]+`` at least one); ``{}`` string map; ``{u}`` map to uuids.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Optional

from ..schema import (
    ATOM_DEFAULTS,
    MAP,
    OPTIONAL,
    SCALAR,
    SET,
    ColumnType,
    DatumError,
    Schema,
    TableSchema,
)
from ..snapshot import NB_NAME, SB_NAME

_ATOMS = {"s": "string", "i": "integer", "b": "boolean", "u": "uuid", "r": "real"}

KNOWN: dict[str, dict[str, str]] = {
    NB_NAME: {
        "NB_Global": "name:s nb_cfg:i sb_cfg:i hv_cfg:i external_ids:{} connections:[u] "
                     "ssl:u? options:{} ipsec:b",
        "Logical_Router": "name:s ports:[u] static_routes:[u] policies:[u] enabled:b? nat:[u] "
                          "load_balancer:[u] load_balancer_group:[u] copp:u? options:{} "
                          "external_ids:{}",
        "Logical_Router_Port": "name:s gateway_chassis:[u] ha_chassis_group:u? options:{} "
                               "networks:[s]+ mac:s peer:s? enabled:b? ipv6_ra_configs:{} "
                               "ipv6_prefix:[s] external_ids:{} status:{} dhcp_relay:u?",
        "NAT": "external_ip:s external_mac:s? external_port_range:s logical_ip:s "
               "logical_port:s? type:s allowed_ext_ips:u? exempted_ext_ips:u? "
               "gateway_port:u? options:{} external_ids:{} match:s priority:i",
        "Gateway_Chassis": "name:s chassis_name:s priority:i external_ids:{} options:{}",
        "HA_Chassis_Group": "name:s ha_chassis:[u] external_ids:{}",
        "HA_Chassis": "chassis_name:s priority:i external_ids:{}",
        "Logical_Switch": "name:s ports:[u] acls:[u] qos_rules:[u] load_balancer:[u] "
                          "load_balancer_group:[u] dns_records:[u] forwarding_groups:[u] "
                          "copp:u? other_config:{} external_ids:{}",
        "Logical_Switch_Port": "name:s type:s options:{} parent_name:s? tag_request:i? tag:i? "
                               "addresses:[s] dynamic_addresses:s? port_security:[s] up:b? "
                               "enabled:b? dhcpv4_options:u? dhcpv6_options:u? "
                               "ha_chassis_group:u? external_ids:{} mirror_rules:[u] peer:s?",
        "Load_Balancer": "name:s vips:{} protocol:s? health_check:[u] ip_port_mappings:{} "
                         "selection_fields:[s] options:{} external_ids:{}",
        "Load_Balancer_Group": "name:s load_balancer:[u]",
        "Logical_Router_Static_Route": "ip_prefix:s nexthop:s output_port:s? policy:s? "
                                       "route_table:s bfd:u? options:{} external_ids:{} "
                                       "selection_fields:[s]",
        "Logical_Router_Policy": "priority:i match:s action:s nexthop:s? nexthops:[s] "
                                 "options:{} external_ids:{} bfd_sessions:[u]",
        "Address_Set": "name:s addresses:[s] external_ids:{}",
    },
    SB_NAME: {
        "SB_Global": "nb_cfg:i external_ids:{} connections:[u] ssl:u? options:{} ipsec:b",
        "Chassis": "name:s hostname:s encaps:[u]+ vtep_logical_switches:[s] nb_cfg:i "
                   "external_ids:{} other_config:{} transport_zones:[s]",
        "Chassis_Private": "name:s chassis:u? nb_cfg:i nb_cfg_timestamp:i external_ids:{}",
        "Encap": "type:s options:{} ip:s chassis_name:s",
        "Port_Binding": "logical_port:s type:s options:{} datapath:u tunnel_key:i "
                        "parent_port:s? tag:i? virtual_parent:s? chassis:u? "
                        "additional_chassis:[u] encap:u? additional_encap:[u] mac:[s] "
                        "port_security:[s] nat_addresses:[s] up:b? gateway_chassis:[u] "
                        "ha_chassis_group:u? requested_chassis:u? "
                        "requested_additional_chassis:[u] external_ids:{}",
        "HA_Chassis_Group": "name:s ha_chassis:[u] ref_chassis:[u] external_ids:{}",
        "HA_Chassis": "chassis:u? priority:i external_ids:{}",
        "Datapath_Binding": "tunnel_key:i load_balancers:[u] external_ids:{}",
    },
}


def _parse_spec(spec: str) -> ColumnType:
    if spec.startswith("{"):
        value = "uuid" if spec == "{u}" else "string"
        return ColumnType(MAP, "string", value, 0, sys.maxsize, None, {})
    if spec.startswith("["):
        key = _ATOMS[spec[1]]
        n_min = 1 if spec.endswith("+") else 0
        default = (ATOM_DEFAULTS[key],) if n_min else ()
        return ColumnType(SET, key, None, n_min, sys.maxsize, None, default)
    key = _ATOMS[spec[0]]
    if spec.endswith("?"):
        return ColumnType(OPTIONAL, key, None, 0, 1, None, None)
    return ColumnType(SCALAR, key, None, 1, 1, None, ATOM_DEFAULTS[key])


def known_schema(db_name: str) -> Schema:
    """A partial schema of the columns above, for databases exported without one."""
    tables = {}
    for tname, spec in KNOWN.get(db_name, {}).items():
        cols = {}
        for item in spec.split():
            cname, cspec = item.split(":", 1)
            cols[cname] = _parse_spec(cspec)
        tables[tname] = TableSchema(tname, cols)
    return Schema(db_name, "", tables, {})


def installed_schema(db_name: str) -> Optional[Schema]:
    """The schema shipped with an installed OVN, when there is one."""
    base = os.environ.get("OVNINSPECT_SCHEMA_DIR", "/usr/share/ovn")
    fname = {NB_NAME: "ovn-nb.ovsschema", SB_NAME: "ovn-sb.ovsschema"}.get(db_name)
    if fname is None:
        return None
    try:
        with open(os.path.join(base, fname)) as fh:
            return Schema.from_json(json.loads(fh.read()))
    except (OSError, ValueError, DatumError):
        return None


def reference_schema(db_name: str) -> Schema:
    """Installed schema when available, merged over the built-in table."""
    merged = known_schema(db_name)
    installed = installed_schema(db_name)
    if installed is not None:
        for tname, ts in installed.tables.items():
            merged.tables[tname] = ts
        merged.version = installed.version
    return merged
