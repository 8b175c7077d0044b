#!/usr/bin/env python3
"""Checks every deployment file against the real tools, as a user would run them.

Kubernetes: every overlay in deploy/kubernetes/overlays is rendered with
`kubectl kustomize` and validated against the Kubernetes 1.31 schemas
(kubernetes-validate, strict: unknown fields fail); the PodMonitor (a CRD the
schemas lack) is checked to name a container port the DaemonSet has, and
every overlay again with the optional PodMonitor component. Ports are checked
to be one setting: the ConfigMap's addresses, the container ports, the
Service and the NetworkPolicy agree.

Nomad: every job in deploy/nomad is parsed as HCL2 (python-hcl2); the task's
arguments are resolved with the variables' defaults and sample values for
Nomad's own interpolations, and `gossip-mirror run --check-config` must
accept them.

  scripts/release/check-deploy.py --binary .build/debug/gossip-mirror [--only kubernetes|nomad]

Prints one `ok ...` line per check and exits non-zero on the first failure.
Needs kubectl (kustomize v5) and the Python packages kubernetes-validate and
python-hcl2 (scripts/install-deps.sh installs them in a virtual environment).
"""
import argparse, json, os, re, subprocess, sys, tempfile
from pathlib import Path

import hcl2
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.31.0"


def fail(message):
    print(f"FAIL {message}", flush=True)
    sys.exit(1)


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def render(directory):
    result = run(["kubectl", "kustomize", str(directory)])
    if result.returncode != 0:
        fail(f"kubectl kustomize {directory}: {result.stderr.strip()}")
    return result.stdout


def validate(rendered, label):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(rendered)
    try:
        result = run([sys.executable, "-m", "kubernetes_validate", "-k", KUBERNETES_VERSION, "--strict", "--quiet", f.name])
    finally:
        os.unlink(f.name)
    errors = [l for l in (result.stdout + result.stderr).splitlines() if l.startswith("ERROR") or "Traceback" in l]
    warnings = [l for l in (result.stdout + result.stderr).splitlines() if l.startswith("WARN")]
    unknown = [w for w in warnings if "PodMonitor" not in w]
    if result.returncode != 0 or errors or unknown:
        fail(f"{label} does not validate against Kubernetes {KUBERNETES_VERSION}:\n" + "\n".join(errors + unknown))


def check_overlay(overlay):
    documents = [d for d in yaml.safe_load_all(render(overlay)) if d]
    validate(yaml.safe_dump_all(documents), overlay.name)
    by_kind = {}
    for d in documents:
        by_kind.setdefault(d["kind"], []).append(d)
    daemonset = by_kind["DaemonSet"][0]
    settings = next(c for c in by_kind["ConfigMap"] if c["metadata"]["name"].startswith("gossip-mirror-") and "GOSSIP_MIRROR_STORE" in c.get("data", {}))
    data = settings["data"]
    pod = daemonset["spec"]["template"]["spec"]
    container = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    expected = {
        "gossip-tcp": data["GOSSIP_MIRROR_GOSSIP_ADDR"], "gossip-udp": data["GOSSIP_MIRROR_GOSSIP_ADDR"],
        "registry": data["GOSSIP_MIRROR_REGISTRY_ADDR"], "status": data["GOSSIP_MIRROR_STATUS_ADDR"],
    }
    for name, address in expected.items():
        if str(ports.get(name)) != address.rsplit(":", 1)[1]:
            fail(f"{overlay.name}: container port {name} is {ports.get(name)}, the setting says {address}")
    if not data["GOSSIP_MIRROR_JOIN"].endswith(":" + str(ports["gossip-tcp"])):
        fail(f"{overlay.name}: the join address {data['GOSSIP_MIRROR_JOIN']} does not use the gossip port")
    service = by_kind["Service"][0]
    if {p["port"] for p in service["spec"]["ports"]} != {ports["gossip-tcp"]}:
        fail(f"{overlay.name}: the seeds Service ports differ from the gossip port")
    policy_ports = {p["port"] for rule in by_kind["NetworkPolicy"][0]["spec"]["ingress"] for p in rule["ports"]}
    if policy_ports != {ports["gossip-tcp"], ports["registry"], ports["status"]}:
        fail(f"{overlay.name}: NetworkPolicy ports {policy_ports} differ from the container ports {ports}")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        if container[probe]["httpGet"]["port"] not in ports:
            fail(f"{overlay.name}: {probe} names no container port")
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v.get("hostPath", {}).get("path") for v in pod["volumes"]}
    for volume, key in [("containerd-sock", "GOSSIP_MIRROR_CONTAINERD_SOCK"), ("containerd-content", "GOSSIP_MIRROR_CONTAINERD_CONTENT_ROOT"),
                        ("containerd-hosts", "GOSSIP_MIRROR_HOSTS_DIR")]:
        if not (mounts[volume] == volumes[volume] == data[key]):
            fail(f"{overlay.name}: {volume} is mounted from {volumes[volume]} at {mounts[volume]}, the setting says {data[key]}")
    if pod.get("priorityClassName") != "system-node-critical":
        fail(f"{overlay.name}: no system-node-critical priority")
    for required in ("requests", "limits"):
        if required not in container.get("resources", {}):
            fail(f"{overlay.name}: no resource {required}")
    if not any(c["metadata"]["name"] == "gossip-mirror-dashboard" for c in by_kind["ConfigMap"]):
        fail(f"{overlay.name}: no dashboard ConfigMap")
    print(f"ok kubernetes overlay {overlay.name}: {len(documents)} objects valid for Kubernetes {KUBERNETES_VERSION}; "
          f"ports {ports['registry']}/{ports['gossip-tcp']}/{ports['status']}; hosts dir {data['GOSSIP_MIRROR_HOSTS_DIR']}", flush=True)
    return data


def check_podmonitor(overlay):
    """The overlay plus the optional PodMonitor component, in a scratch overlay."""
    with tempfile.TemporaryDirectory(dir=overlay.parent) as scratch:
        relative = os.path.relpath(overlay, scratch)
        component = os.path.relpath(ROOT / "deploy/kubernetes/components/podmonitor", scratch)
        Path(scratch, "kustomization.yaml").write_text(
            f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [{relative}]\ncomponents: [{component}]\n")
        documents = [d for d in yaml.safe_load_all(render(scratch)) if d]
    validate(yaml.safe_dump_all(documents), overlay.name + " with the PodMonitor")
    monitor = next((d for d in documents if d["kind"] == "PodMonitor"), None)
    if monitor is None:
        fail("the podmonitor component adds no PodMonitor")
    daemonset = next(d for d in documents if d["kind"] == "DaemonSet")
    labels = daemonset["spec"]["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in monitor["spec"]["selector"]["matchLabels"].items()):
        fail("the PodMonitor does not select the mirror's pods")
    names = {p["name"] for p in daemonset["spec"]["template"]["spec"]["containers"][0]["ports"]}
    for endpoint in monitor["spec"]["podMetricsEndpoints"]:
        if endpoint["port"] not in names or endpoint.get("path") != "/metrics":
            fail(f"PodMonitor endpoint {endpoint} names no container port or not /metrics")
    print(f"ok kubernetes overlay {overlay.name} with the PodMonitor: selects the pods, scrapes port {endpoint['port']} /metrics", flush=True)


# ---- Nomad ------------------------------------------------------------------

def unquote(value):
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value)
    return value


SAMPLES = {
    "attr.unique.network.ip-address": "10.0.0.5",
    "node.unique.name": "client-1",
    "NOMAD_SECRETS_DIR": None,  # the test's key directory
}


def interpolate(text, variables, ports, secrets):
    def replace(match):
        expression = match.group(1).strip()
        if expression.startswith("var."):
            return str(variables[expression[4:]])
        if expression.startswith("NOMAD_PORT_"):
            return str(ports[expression[len("NOMAD_PORT_"):]])
        if expression == "NOMAD_SECRETS_DIR":
            return secrets
        if expression in SAMPLES:
            return SAMPLES[expression]
        fail(f"unknown interpolation ${{{expression}}}")
    return re.sub(r"\$\{([^}]*)\}", replace, text)


def find_task(job):
    for group in job.get("group", []):
        for group_name, group_body in group.items():
            for task in group_body.get("task", []):
                for task_name, task_body in task.items():
                    return group_body, task_body
    fail("no task")


def check_nomad(path, binary, scratch):
    document = hcl2.load(open(path))
    variables = {}
    for block in document.get("variable", []):
        for name, body in block.items():
            variables[unquote(name)] = unquote(body.get("default"))
    # As `-var hosts_dir=...` would: the hosts directory must exist, and this
    # machine's /etc/docker/certs.d may not.
    variables["hosts_dir"] = os.path.join(scratch, "certs.d")
    os.makedirs(variables["hosts_dir"], exist_ok=True)
    jobs = document["job"]
    job_name, job = next(iter(jobs[0].items()))
    group, task = find_task(job)
    # Everything the issue asks of the job.
    restart = group.get("restart", [{}])[0]
    if unquote(restart.get("mode")) != "delay":
        fail(f"{path.name}: the restart block must keep retrying (mode = \"delay\")")
    if "priority" not in job:
        fail(f"{path.name}: no job priority")
    checks = [c for s in group.get("service", []) for c in s.get("check", [])]
    if not any("check_restart" in c for c in checks):
        fail(f"{path.name}: no check_restart")
    if not all("var.service_provider" in str(s.get("provider")) for s in group.get("service", [])):
        fail(f"{path.name}: the service provider is not the variable")
    templates = task.get("template", [])
    key = [t for t in templates if "cluster.key" in str(t.get("destination"))]
    if not key or unquote(key[0].get("change_mode")) != "signal" or unquote(key[0].get("change_signal")) != "SIGHUP":
        fail(f"{path.name}: the key template must signal SIGHUP")
    seeds = [t for t in templates if t.get("env")]
    if not seeds or unquote(seeds[0].get("change_mode")) != "noop":
        fail(f"{path.name}: the seeds template must be change_mode = \"noop\"")
    # The ports are the variables.
    ports = {}
    for network in group["network"]:
        for port in network["port"]:
            for name, body in port.items():
                ports[unquote(name)] = int(interpolate(str(body["static"]), variables, {}, ""))
    # Resolve the arguments and hand them to the binary.
    config = task["config"][0]
    arguments = [interpolate(unquote(a) if isinstance(a, str) and a.startswith('"') else a, variables, ports, scratch)
                 for a in config["args"]]
    arguments = [re.sub(r"^\$\{(.*)\}$", r"\1", a) for a in arguments]
    arguments = [str(variables[a[4:]]) if a.startswith("var.") else a for a in arguments]
    key_argument = arguments.index("--key-file") + 1
    # The docker job names the key at the container path /secrets; here it is the scratch key.
    arguments[key_argument] = os.path.join(scratch, "cluster.key")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GOSSIP_MIRROR_")}
    environment["GOSSIP_MIRROR_JOIN"] = "10.0.0.6:%d,10.0.0.7:%d," % (ports["gossip"], ports["gossip"])
    result = run([binary] + arguments + ["--check-config"], env=environment)
    if result.returncode != 0:
        fail(f"{path.name}: gossip-mirror {' '.join(arguments)} --check-config refused: {result.stderr.strip()}")
    for name, port in ports.items():
        if f":{port}" not in result.stdout:
            fail(f"{path.name}: port {name} {port} is not in the checked configuration:\n{result.stdout}")
    print(f"ok nomad job {path.name} ({unquote(job_name)}): {len(arguments)} arguments accepted by --check-config; ports {ports}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--only", choices=["kubernetes", "nomad"])
    options = parser.parse_args()
    overlays = sorted(p for p in (ROOT / "deploy/kubernetes/overlays").iterdir() if (p / "kustomization.yaml").exists())
    if not overlays:
        fail("no overlays")
    if options.only != "nomad":
        for overlay in overlays:
            check_overlay(overlay)
        check_podmonitor(overlays[0])
    if options.only == "kubernetes":
        print(f"all Kubernetes files ok ({len(overlays)} overlays)")
        return
    with tempfile.TemporaryDirectory() as scratch:
        key = run([options.binary, "keygen", "--out", os.path.join(scratch, "cluster.key")])
        if key.returncode != 0:
            fail(f"keygen: {key.stderr}")
        jobs = sorted((ROOT / "deploy/nomad").glob("*.nomad.hcl"))
        if not jobs:
            fail("no Nomad jobs")
        for job in jobs:
            check_nomad(job, options.binary, scratch)
    print(f"all deployment files ok ({len(overlays)} overlays, {len(jobs)} Nomad jobs)")


if __name__ == "__main__":
    main()
