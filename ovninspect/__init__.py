"""ovninspect: what OVN really does with your external IPs."""

__version__ = "0.1.0"
