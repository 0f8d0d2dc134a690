#!/usr/bin/env python3
"""Checks deploy/agones/*.yaml without a cluster: every file parses, the fields are ones Agones' CRDs know
(a typo would be refused by `kubectl apply` or, worse, pruned in silence), and the manifests agree with the
image (deploy/Containerfile) and with each other: ports, user, drain versus grace period, health period
versus the server's ping interval, names the autoscaler and the allocations refer to.

    python3 deploy/check-manifests.py [-v]   # needs PyYAML (Debian: python3-yaml); exit 0 when all hold

Prints each failed check (each check with -v) and "manifests: N passed, N failed" last.
"""

import pathlib
import re
import sys

import yaml

DEPLOY = pathlib.Path(__file__).resolve().parent
AGONES = DEPLOY / "agones"

# The server's defaults these manifests rely on (server/src/config: --drain-secs, --agones-health-ms).
DEFAULT_DRAIN_SECS = 30
AGONES_HEALTH_MS = 2000

# The fields of Agones' v1 GameServer spec (install/helm/agones/templates/crds/_gameserverspecschema.yaml,
# Agones 1.30+ for eviction) and of a port in it, with the values its enums allow.
GAMESERVER_SPEC = {"container", "ports", "health", "sdkServer", "scheduling", "players", "counters", "lists",
                   "eviction", "template"}
PORT = {"name", "portPolicy", "protocol", "container", "containerPort", "hostPort", "range"}
PORT_POLICIES = {"Dynamic", "Static", "Passthrough", "None"}
PROTOCOLS = {"UDP", "TCP", "TCPUDP"}
HEALTH = {"disabled", "initialDelaySeconds", "periodSeconds", "failureThreshold"}
SDK_SERVER = {"logLevel", "grpcPort", "httpPort"}
LOG_LEVELS = {"Error", "Info", "Debug", "Trace"}
FLEET_SPEC = {"replicas", "allocationOverflow", "scheduling", "strategy", "priorities", "template"}
FAS_BUFFER = {"bufferSize", "minReplicas", "maxReplicas"}
ALLOCATION_SPEC = {"selectors", "scheduling", "metadata", "priorities", "counters", "lists", "multiClusterSetting",
                   "required", "preferred"}
SELECTOR = {"matchLabels", "matchExpressions", "gameServerState", "players", "counters", "lists"}

passed = 0
failed = 0
verbose = "-v" in sys.argv[1:]


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        if verbose:
            print(f"check-manifests: ok: {what}")
    else:
        failed += 1
        print(f"check-manifests: FAIL: {what}")


def unknown(mapping, allowed):
    return sorted(set(mapping or {}) - allowed)


def image_config():
    """USER, ENV and EXPOSE of deploy/Containerfile (continuation lines joined)."""
    text = (DEPLOY / "Containerfile").read_text()
    text = re.sub(r"\\\n\s*", " ", text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    user = next(ln.split()[1] for ln in lines if ln.startswith("USER "))
    env = {}
    for ln in lines:
        if ln.startswith("ENV "):
            for kv in ln[4:].split():
                k, _, v = kv.partition("=")
                env[k] = v
    exposed = {p for ln in lines if ln.startswith("EXPOSE ") for p in ln.split()[1:]}
    return user, env, exposed


def check_gameserver_spec(where, spec, image_user, image_env, exposed):
    check(not unknown(spec, GAMESERVER_SPEC), f"{where}: spec fields known to Agones {unknown(spec, GAMESERVER_SPEC)}")
    pod = spec["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    check(spec.get("container") in containers, f"{where}: spec.container names a container of the pod")
    c = containers[spec["container"]]
    env = dict(image_env)
    env.update({e["name"]: e.get("value") for e in c.get("env", [])})

    game_port = int(image_env["ARENA_BIND"].rsplit(":", 1)[1])
    http_port = int(image_env["ARENA_METRICS_BIND"].rsplit(":", 1)[1])
    ports = spec["ports"]
    check(all(not unknown(p, PORT) for p in ports), f"{where}: port fields known to Agones")
    game = [p for p in ports if p.get("protocol", "UDP") == "UDP"]
    check(len(game) == 1 and game[0].get("portPolicy", "Dynamic") in PORT_POLICIES
          and game[0].get("protocol", "UDP") in PROTOCOLS,
          f"{where}: one UDP game port with a known port policy")
    check(game[0].get("portPolicy") == "Dynamic" and game[0].get("containerPort") == game_port
          and f"{game_port}/udp" in exposed,
          f"{where}: Dynamic policy on containerPort {game_port}, the image's ARENA_BIND and EXPOSE")
    http = [p for p in c.get("ports", []) if p.get("containerPort") == http_port and p.get("protocol") == "TCP"]
    annotations = spec["template"].get("metadata", {}).get("annotations", {})
    check(http and f"{http_port}/tcp" in exposed and annotations.get("prometheus.io/port") == str(http_port),
          f"{where}: HTTP port {http_port} (ARENA_METRICS_BIND) declared and annotated for Prometheus")

    health = spec.get("health", {})
    check(not unknown(health, HEALTH) and not health.get("disabled", False),
          f"{where}: health checking on, fields known")
    check(health.get("periodSeconds", 5) * 1000 >= 2 * AGONES_HEALTH_MS,
          f"{where}: health.periodSeconds {health.get('periodSeconds')} s holds at least two pings "
          f"({AGONES_HEALTH_MS} ms apart)")
    check(health.get("failureThreshold", 3) >= 1 and health.get("initialDelaySeconds", 5) >= 0,
          f"{where}: failureThreshold and initialDelaySeconds valid")

    sdk = spec.get("sdkServer", {})
    check(not unknown(sdk, SDK_SERVER) and sdk.get("logLevel", "Info") in LOG_LEVELS
          and sdk.get("httpPort") == 9358 and sdk.get("grpcPort") == 9357,
          f"{where}: sdkServer logLevel, grpcPort 9357, httpPort 9358")
    check(spec.get("eviction", {}).get("safe") in {"Never", "OnUpgrade", "Always"}, f"{where}: eviction.safe valid")

    drain = int(env.get("ARENA_DRAIN_SECS") or DEFAULT_DRAIN_SECS)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(grace > drain, f"{where}: terminationGracePeriodSeconds {grace} > ARENA_DRAIN_SECS {drain}")

    uid = int(image_user.split(":")[0])
    sc = c.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == uid
          and pod.get("securityContext", {}).get("fsGroup") == int(image_user.split(":")[1]),
          f"{where}: runs as the image's non-root user {image_user}, volumes of its group")
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    volumes = {v["name"] for v in pod.get("volumes", [])}
    data_dir = env["ARENA_DATA_DIR"]
    check(not sc.get("readOnlyRootFilesystem") or (data_dir in mounts and mounts[data_dir]["name"] in volumes),
          f"{where}: a read-only root file system with a writable volume at ARENA_DATA_DIR ({data_dir})")
    for var in ("ARENA_CERT", "ARENA_KEY"):
        if var in env:
            path = env[var]
            check(any(path.startswith(m.rstrip("/") + "/") and mounts[m]["name"] in volumes for m in mounts),
                  f"{where}: {var} ({path}) is in a mounted volume")
    check(("ARENA_CERT" in env) == ("ARENA_KEY" in env), f"{where}: ARENA_CERT and ARENA_KEY come together")
    for e in c.get("env", []):
        check(e["name"].startswith("ARENA_") and ("value" in e) != ("valueFrom" in e)
              and (e.get("value") is None or isinstance(e.get("value"), str)),
              f"{where}: env {e['name']}: an ARENA_* variable with a string value or a valueFrom")
    return spec


def main():
    image_user, image_env, exposed = image_config()
    docs = {}
    for path in sorted(AGONES.glob("*.yaml")):
        try:
            loaded = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError as e:
            check(False, f"{path.name} parses: {e}")
            continue
        check(all({"apiVersion", "kind", "metadata"} <= set(d) for d in loaded),
              f"{path.name} parses: {', '.join(d['kind'] for d in loaded)}")
        docs[path.name] = loaded

    gs = docs["gameserver.yaml"][0]
    check(gs["apiVersion"] == "agones.dev/v1" and gs["kind"] == "GameServer", "gameserver.yaml: agones.dev/v1 GameServer")
    check_gameserver_spec("gameserver.yaml", gs["spec"], image_user, image_env, exposed)

    fleet = docs["fleet.yaml"][0]
    check(fleet["apiVersion"] == "agones.dev/v1" and fleet["kind"] == "Fleet", "fleet.yaml: agones.dev/v1 Fleet")
    check(not unknown(fleet["spec"], FLEET_SPEC) and fleet["spec"].get("scheduling") in {"Packed", "Distributed"}
          and fleet["spec"].get("strategy", {}).get("type") in {"RollingUpdate", "Recreate"},
          "fleet.yaml: spec fields known, scheduling and strategy valid")
    check_gameserver_spec("fleet.yaml", fleet["spec"]["template"]["spec"], image_user, image_env, exposed)
    fleet_name = fleet["metadata"]["name"]

    secrets = {d["metadata"]["name"]: d for d in docs["secrets.example.yaml"]}
    pod = fleet["spec"]["template"]["spec"]["template"]["spec"]
    secret_volumes = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    secret_refs = {e["valueFrom"]["secretKeyRef"]["name"]: e["valueFrom"]["secretKeyRef"]["key"]
                   for c in pod["containers"] for e in c.get("env", []) if "valueFrom" in e}
    check(secret_volumes <= set(secrets) and all(secrets[s]["type"] == "kubernetes.io/tls" for s in secret_volumes),
          f"fleet.yaml: the TLS Secret it mounts ({', '.join(sorted(secret_volumes))}) is in secrets.example.yaml")
    check(all(n in secrets and k in secrets[n].get("stringData", {}) for n, k in secret_refs.items()),
          f"fleet.yaml: the Secret keys it reads ({secret_refs}) are in secrets.example.yaml")

    fas = docs["fleetautoscaler.yaml"][0]
    buffer = fas["spec"]["policy"].get("buffer", {})
    check(fas["apiVersion"] == "autoscaling.agones.dev/v1" and fas["kind"] == "FleetAutoscaler"
          and fas["spec"]["fleetName"] == fleet_name and fas["spec"]["policy"]["type"] == "Buffer",
          f"fleetautoscaler.yaml: a Buffer autoscaler of fleet {fleet_name}")
    check(not unknown(buffer, FAS_BUFFER) and isinstance(buffer.get("bufferSize"), int)
          and buffer.get("bufferSize", 0) <= buffer.get("minReplicas", 0) <= buffer["maxReplicas"],
          f"fleetautoscaler.yaml: bufferSize {buffer.get('bufferSize')} <= minReplicas {buffer.get('minReplicas')} "
          f"<= maxReplicas {buffer.get('maxReplicas')}")

    for name in ("allocation.yaml", "allocation-shared.yaml"):
        a = docs[name][0]
        selectors = a["spec"]["selectors"]
        check(a["apiVersion"] == "allocation.agones.dev/v1" and a["kind"] == "GameServerAllocation"
              and "generateName" in a["metadata"] and not unknown(a["spec"], ALLOCATION_SPEC),
              f"{name}: a GameServerAllocation (generateName, for kubectl create), spec fields known")
        check(all(not unknown(s, SELECTOR) and s.get("matchLabels", {}).get("agones.dev/fleet") == fleet_name
                  and s.get("gameServerState", "Ready") in {"Ready", "Allocated"} for s in selectors)
              and selectors[-1].get("gameServerState", "Ready") == "Ready",
              f"{name}: every selector picks servers of fleet {fleet_name}; the last takes a Ready one")
        keys = {e["key"] for s in selectors for e in s.get("matchExpressions", [])}
        check(all(k.startswith("agones.dev/sdk-arena-") for k in keys),
              f"{name}: selects on the server's own SDK labels {sorted(keys)}")

    print(f"manifests: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
