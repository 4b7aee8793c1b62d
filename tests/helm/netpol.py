"""Which connections the rendered NetworkPolicies allow, by Kubernetes' rules (offline: no CNI here).

A connection src -> dst:port is allowed when src's egress allows it and dst's ingress allows it. A pod
no policy of a direction selects is open in that direction; once one selects it, only what some rule of
some selecting policy admits gets through (a rule without `ports` admits every port, one without
`from`/`to` every peer; `egress: []` admits nothing). Peers: podSelector alone means pods of the policy's
namespace, namespaceSelector picks namespaces by their labels (kubernetes.io/metadata.name included),
both together must both match, ipBlock stands for addresses outside the cluster.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Endpoint:
    name: str
    namespace: str | None  # None: outside the cluster
    labels: dict = field(default_factory=dict, hash=False, compare=False)
    ports: tuple[tuple[int, str], ...] = ()  # (port, protocol) it listens on


def _matches(selector: dict, labels: dict) -> bool:
    if set(selector) - {"matchLabels"}:
        raise NotImplementedError(f"selector fields beyond matchLabels: {selector}")
    return (selector.get("matchLabels") or {}).items() <= labels.items()


def _peer_matches(peer: dict, endpoint: Endpoint, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return endpoint.namespace is None
    if endpoint.namespace is None:
        return False
    if "namespaceSelector" in peer:
        namespace_ok = _matches(peer["namespaceSelector"], {"kubernetes.io/metadata.name": endpoint.namespace})
    else:
        namespace_ok = endpoint.namespace == policy_namespace
    return namespace_ok and _matches(peer.get("podSelector") or {}, endpoint.labels)


def _port_matches(rule: dict, port: int, protocol: str) -> bool:
    for allowed in rule.get("ports") or []:
        if isinstance(allowed.get("port"), str):
            raise NotImplementedError("named ports")
        if allowed.get("port") in (None, port) and allowed.get("protocol", "TCP") == protocol:
            return True
    return not rule.get("ports")


def _admits(policies: list[dict], owner: Endpoint, peer: Endpoint, port: int, protocol: str,
            direction: str) -> bool:
    if owner.namespace is None:
        return True
    selecting = [p for p in policies if p["metadata"]["namespace"] == owner.namespace
                 and direction in p["spec"]["policyTypes"] and _matches(p["spec"]["podSelector"], owner.labels)]
    if not selecting:
        return True
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return any(_port_matches(rule, port, protocol)
               and (not rule.get(peers_key) or any(_peer_matches(p, peer, policy["metadata"]["namespace"])
                                                   for p in rule[peers_key]))
               for policy in selecting for rule in policy["spec"].get(rules_key) or [])


def allowed_connections(policies: list[dict], endpoints: list[Endpoint]) -> set[tuple[str, str, int, str]]:
    """Every (src, dst, port, protocol) the policies let through, among these endpoints."""
    return {(src.name, dst.name, port, protocol)
            for src in endpoints for dst in endpoints if src != dst for port, protocol in dst.ports
            if _admits(policies, src, dst, port, protocol, "Egress")
            and _admits(policies, dst, src, port, protocol, "Ingress")}
