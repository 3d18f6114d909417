#!/usr/bin/env python3
"""Platform rules for rendered manifests, on top of the schema check.

kubernetes-validate proves each object is well-formed for the Kubernetes API.
It cannot know what this platform needs: every pod non-root with a read-only
root filesystem, probes on the process's own /ready and /health, a grace
period longer than the drain, secrets only from Secrets, a migration Job for
each service with a database, a PodDisruptionBudget (and in prod an autoscaler)
for the gateway. This script checks exactly those, on the output of
`kubectl kustomize`, so a change that renders and validates but breaks one of
them still fails `just k8s`.

Usage: policy.py --env dev|prod RENDERED.yaml
Prints one summary line on success; one line per violation on stderr and exit
status 1 otherwise.
"""

import argparse
import re
import sys
from collections import Counter

import yaml  # PyYAML: installed together with kubernetes-validate

# Pods of these workloads must have a PodDisruptionBudget; in prod also an HPA.
FRONT_DOOR = {"gateway"}
# Env var names whose values are credentials: only ever from a Secret.
SECRET_ENV = re.compile(r"(DATABASE__URL|ENCRYPTION_KEY|PASSWORD|SECRET|TOKEN)$")
# Drain time the binaries use when APP_HTTP__SHUTDOWN_TIMEOUT_SECS is unset.
DEFAULT_SHUTDOWN_SECS = 10


def subset(selector, labels):
    """True when every key/value of selector is in labels (label selection)."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def image_tag_ok(image):
    """An explicit tag or digest, never the implicit or explicit `latest`."""
    if "@" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and not last.endswith(":latest")


class Checker:
    def __init__(self, docs, env):
        self.docs = docs
        self.env = env
        self.errors = []
        self.of_kind = {}
        for d in docs:
            self.of_kind.setdefault(d["kind"], []).append(d)
        self.configmaps = {
            c["metadata"]["name"]: c.get("data") or {} for c in self.of_kind.get("ConfigMap", [])
        }
        self.secrets = {s["metadata"]["name"] for s in self.of_kind.get("Secret", [])}

    def err(self, obj, msg):
        self.errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {msg}")

    def kinds(self, *kinds):
        for k in kinds:
            yield from self.of_kind.get(k, [])

    # --- helpers over pod templates -------------------------------------------------

    def settings(self, container):
        """The APP_ settings a container sees: its ConfigMaps, then literal env."""
        merged = {}
        for src in container.get("envFrom") or []:
            ref = (src.get("configMapRef") or {}).get("name")
            if ref is not None:
                merged.update(self.configmaps.get(ref, {}))
        for e in container.get("env") or []:
            if "value" in e:
                merged[e["name"]] = e["value"]
        return merged

    def check_pod(self, obj, pod):
        """Hardening every pod of the platform shares (Deployments and Jobs)."""
        psc = pod.get("securityContext") or {}
        if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
            self.err(obj, "must not use the host's network, PID or IPC namespace")
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for c in (pod.get("initContainers") or []) + pod.get("containers", []):
            where = f"container {c['name']}: "
            csc = c.get("securityContext") or {}
            if not (csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True):
                self.err(obj, where + "runAsNonRoot must be true")
            if csc.get("runAsUser", psc.get("runAsUser")) == 0:
                self.err(obj, where + "runAsUser must not be 0 (root)")
            seccomp = csc.get("seccompProfile") or psc.get("seccompProfile") or {}
            if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
                self.err(obj, where + "seccompProfile must be RuntimeDefault")
            if csc.get("allowPrivilegeEscalation") is not False:
                self.err(obj, where + "allowPrivilegeEscalation must be false")
            if csc.get("privileged"):
                self.err(obj, where + "must not be privileged")
            if csc.get("readOnlyRootFilesystem") is not True:
                self.err(obj, where + "readOnlyRootFilesystem must be true")
            if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
                self.err(obj, where + "capabilities must drop ALL")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(part) or {}):
                        self.err(obj, where + f"resources.{part}.{r} must be set")
            if not image_tag_ok(c.get("image", "")):
                self.err(obj, where + f"image {c.get('image')!r} needs an explicit tag, not latest")
            # A read-only root filesystem still needs somewhere to write temp files.
            tmp = [m for m in c.get("volumeMounts") or [] if m.get("mountPath") == "/tmp"]
            if not tmp or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
                self.err(obj, where + "/tmp must be an emptyDir mount")
            for e in c.get("env") or []:
                if SECRET_ENV.search(e["name"]) and "secretKeyRef" not in (e.get("valueFrom") or {}):
                    self.err(obj, where + f"{e['name']} must come from a secretKeyRef")
                ref = ((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name")
                if ref and self.env == "dev" and ref not in self.secrets:
                    self.err(obj, where + f"Secret {ref} is referenced but dev ships no example of it")
            cfg = self.settings(c)
            for key, want in (("APP_HTTP__HOST", "0.0.0.0"), ("APP_LOG__FORMAT", "json")):
                if cfg.get(key) != want:
                    self.err(obj, where + f"{key} must be {want!r} in a cluster, is {cfg.get(key)!r}")

    # --- per kind ---------------------------------------------------------------------

    def check_deployment(self, dep):
        pod = dep["spec"]["template"]["spec"]
        labels = dep["spec"]["template"]["metadata"].get("labels") or {}
        app = labels.get("app.kubernetes.io/name", dep["metadata"]["name"])
        self.check_pod(dep, pod)
        for c in pod["containers"]:
            where = f"container {c['name']}: "
            cfg = self.settings(c)
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports") or []}
            for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
                get = (c.get(probe) or {}).get("httpGet") or {}
                if get.get("path") != path:
                    self.err(dep, where + f"{probe} must be an httpGet on {path}")
                    continue
                port = ports.get(get.get("port"), get.get("port"))
                if str(port) != str(cfg.get("APP_HTTP__PORT")):
                    self.err(dep, where + f"{probe} port {port} is not APP_HTTP__PORT "
                             f"({cfg.get('APP_HTTP__PORT')})")
            drain = int(cfg.get("APP_HTTP__SHUTDOWN_TIMEOUT_SECS", DEFAULT_SHUTDOWN_SECS))
            pre_stop = ((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}
            needed = drain + int(pre_stop.get("seconds", 0))
            grace = pod.get("terminationGracePeriodSeconds", 30)
            if grace <= needed:
                self.err(dep, f"terminationGracePeriodSeconds {grace} must exceed preStop + drain "
                         f"({needed} s)")
            if (c.get("args") or [None])[0] != "serve":
                self.err(dep, where + "must run `<service> serve`")
            # A service with a database needs its migration Job in the same render,
            # so deploying it alone can never skip the migrations.
            if any(e["name"] == "APP_DATABASE__URL" for e in c.get("env") or []):
                jobs = [j for j in self.kinds("Job")
                        if any(jc.get("image") == c.get("image") and jc.get("args") == ["migrate"]
                               for jc in j["spec"]["template"]["spec"]["containers"])]
                if not jobs:
                    self.err(dep, f"has a database but no `{app} migrate` Job with the same image")
        if not any(subset(s["spec"].get("selector"), labels) for s in self.kinds("Service")):
            self.err(dep, "no Service selects its pods (health/metrics port)")
        hpas = [h for h in self.kinds("HorizontalPodAutoscaler")
                if h["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]]
        if app in FRONT_DOOR:
            if not any(subset(p["spec"]["selector"].get("matchLabels"), labels)
                       for p in self.kinds("PodDisruptionBudget")):
                self.err(dep, "needs a PodDisruptionBudget")
            if self.env == "prod" and not hpas:
                self.err(dep, "needs a HorizontalPodAutoscaler in prod")
        if hpas and "replicas" in dep["spec"]:
            # kubectl apply would reset the autoscaler's choice on every deploy.
            self.err(dep, "is scaled by an HPA, so it must not set spec.replicas")

    def check_job(self, job):
        self.check_pod(job, job["spec"]["template"]["spec"])
        spec = job["spec"]
        for key in ("backoffLimit", "ttlSecondsAfterFinished"):
            if key not in spec:
                self.err(job, f"spec.{key} must be set")
        if not any(c.get("args") == ["migrate"] for c in spec["template"]["spec"]["containers"]):
            self.err(job, "must run `<service> migrate`")

    def check_service(self, svc):
        # A Service that also selected the migration Job's pod would send traffic
        # to a process that serves nothing.
        for j in self.kinds("Job"):
            if subset(svc["spec"].get("selector"), j["spec"]["template"]["metadata"].get("labels") or {}):
                self.err(svc, f"selector also matches the pods of Job/{j['metadata']['name']}")

    def run(self):
        namespaces = set()
        for d in self.docs:
            if d["kind"] != "Namespace":
                ns = d["metadata"].get("namespace")
                if not ns:
                    self.err(d, "has no namespace: every overlay must set one")
                namespaces.add(ns)
        if len(namespaces) > 1:
            self.errors.append(f"objects spread over several namespaces: {sorted(map(str, namespaces))}")
        for cm_name, data in self.configmaps.items():
            for key in data:
                if SECRET_ENV.search(key):
                    self.errors.append(f"ConfigMap/{cm_name}: {key} is a credential; use a Secret")
        if self.env == "prod":
            for s in self.kinds("Secret"):
                self.err(s, "prod ships no Secret: create it out of band (deploy/README.md)")
        for d in self.kinds("Deployment"):
            self.check_deployment(d)
        for j in self.kinds("Job"):
            self.check_job(j)
        for s in self.kinds("Service"):
            self.check_service(s)
        return self.errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", choices=["dev", "prod"], required=True)
    ap.add_argument("rendered")
    args = ap.parse_args()
    with open(args.rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    if not docs:
        print("policy: the render is empty", file=sys.stderr)
        return 1
    errors = Checker(docs, args.env).run()
    for e in errors:
        print(f"POLICY {e}", file=sys.stderr)
    if errors:
        return 1
    counts = Counter(d["kind"] for d in docs)
    print(f"{len(docs)} objects (" + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
