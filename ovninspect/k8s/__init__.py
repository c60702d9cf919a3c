"""Kube-OVN intent from Kubernetes objects (``--k8s``): the typed model, the reader, and the
matching of CRs to NB rows."""
