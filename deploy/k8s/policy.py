#!/usr/bin/env python3
"""Platform rules for rendered manifests, on top of the schema check.

kubernetes-validate proves each object is well-formed for the Kubernetes API.
It cannot know what this platform needs: every pod non-root with a read-only
root filesystem, probes on the process's own /ready and /health, a grace
period longer than the drain, secrets only from Secrets, a migration Job for
each service with a database, a PodDisruptionBudget (and in prod an autoscaler)
for the gateway, each service on the bus as its own NATS user with its password
from its Secret (and migration Jobs with neither that nor the encryption key),
a NetworkPolicy fencing every pod in both directions. This script checks
exactly those, on the output of
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
# The only services whose pods may reach addresses outside the cluster (an
# ipBlock, or an egress rule with no `to`), and only on these ports: the
# brokers' HTTPS APIs.
EXTERNAL_EGRESS = {"outbox-broker-fetcher": {("TCP", 443)}}
# Env var names whose values are credentials: only ever from a Secret.
SECRET_ENV = re.compile(r"(DATABASE__URL|ENCRYPTION_KEY|PREVIOUS_KEYS|PASSWORD|SECRET|TOKEN|SEED)$")
# A URL with a password in it (scheme://user:password@host).
URL_WITH_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s]*:[^/@\s]*@")
# What a migration Job must never get: it connects to Postgres only, and it
# neither reads nor writes anything encrypted.
JOB_FORBIDDEN_SETTINGS = ("APP_NATS__USER", "APP_NATS__PASSWORD", "APP_NATS__NKEY_SEED")
# The Secret key of each service's NATS password (in <service>-secrets).
NATS_PASSWORD_KEY = "nats-password"
DNS_PORT = 53
POSTGRES_PORT = 5432
# Drain time the binaries use when APP_HTTP__SHUTDOWN_TIMEOUT_SECS is unset.
DEFAULT_SHUTDOWN_SECS = 10


def subset(selector, labels):
    """True when every key/value of selector is in labels (label selection)."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def selects(selector, labels):
    """A full LabelSelector (matchLabels and matchExpressions) against labels.
    An empty selector selects every pod, as a NetworkPolicy's podSelector does."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if ((op == "In" and labels.get(key) not in values)
                or (op == "NotIn" and key in labels and labels[key] in values)
                or (op == "Exists" and key not in labels)
                or (op == "DoesNotExist" and key in labels)):
            return False
    return True


def np_ports(rule):
    """(protocol, port) pairs of a NetworkPolicy rule; None when it names no
    ports (the rule then covers every port)."""
    ports = rule.get("ports")
    if not ports:
        return None
    return {(p.get("protocol", "TCP"), p.get("port")) for p in ports}


def show_ports(ports):
    return ", ".join(sorted(f"{port}/{proto}" for proto, port in ports))


def nats_port(url):
    m = re.match(r"^[a-z]+://(?:[^@/]*@)?[^:/]+:(\d+)", url or "")
    return int(m.group(1)) if m else 4222


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
                if URL_WITH_PASSWORD.match(str(e.get("value", ""))):
                    self.err(obj, where + f"{e['name']} is a URL with a password in it; "
                             "credentials come from a Secret")
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
            self.check_nats_client(dep, c, app)
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
        self.check_network_policy(dep, app, labels, pod, serves=True)
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

    def check_nats_client(self, dep, c, app):
        """Each service is on the bus as its own user (the server's permissions are
        per user), with that user's password from the service's own Secret."""
        where = f"container {c['name']}: "
        cfg = self.settings(c)
        if cfg.get("APP_NATS__USER") != app:
            self.err(dep, where + f"APP_NATS__USER must be {app!r} (its own NATS user), "
                     f"is {cfg.get('APP_NATS__USER')!r}")
        env = {e["name"]: e for e in c.get("env") or []}
        ref = ((env.get("APP_NATS__PASSWORD") or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        if ref.get("name") != f"{app}-secrets" or ref.get("key") != NATS_PASSWORD_KEY:
            self.err(dep, where + f"APP_NATS__PASSWORD must come from a secretKeyRef to "
                     f"Secret {app}-secrets, key {NATS_PASSWORD_KEY}")
        elif ref.get("optional"):
            # Without the key the pod would start with a user and no password.
            self.err(dep, where + "the secretKeyRef of APP_NATS__PASSWORD must not be optional")
        # TLS files must be where a volume puts them, or the connection fails.
        mounts = [m["mountPath"].rstrip("/") + "/" for m in c.get("volumeMounts") or []]
        for key in ("APP_NATS__TLS__CA_FILE", "APP_NATS__TLS__CERT_FILE", "APP_NATS__TLS__KEY_FILE"):
            path = cfg.get(key)
            if path and not any(path.startswith(m) for m in mounts):
                self.err(dep, where + f"{key}={path} is under no volumeMount")

    def check_network_policy(self, obj, app, labels, pod, serves):
        """Every pod is fenced in both directions by a NetworkPolicy, which lets in
        only its HTTP port, lets out what it needs, and reaches outside the cluster
        only for the services allowed to (EXTERNAL_EGRESS)."""
        policies = [p for p in self.kinds("NetworkPolicy")
                    if selects(p["spec"].get("podSelector"), labels)]
        if not policies:
            self.err(obj, "no NetworkPolicy selects its pods: their traffic is unrestricted")
            return
        types = set()
        for p in policies:
            # The API's default when policyTypes is omitted.
            types |= set(p["spec"].get("policyTypes")
                         or ["Ingress"] + (["Egress"] if "egress" in p["spec"] else []))
        for t in ("Ingress", "Egress"):
            if t not in types:
                self.err(obj, f"no NetworkPolicy restricts the {t} of its pods (policyTypes)")
        containers = pod.get("containers", [])
        # The HTTP port by number, or by the name the container gives it.
        http_ports = set()
        for c in containers:
            port = self.settings(c).get("APP_HTTP__PORT")
            if port:
                http_ports.add(("TCP", int(port)))
                http_ports |= {("TCP", p["name"]) for p in c.get("ports") or []
                               if p.get("name") and str(p["containerPort"]) == str(port)}
        egress_ports = set()
        for p in policies:
            where = f"NetworkPolicy/{p['metadata']['name']}: "
            for rule in p["spec"].get("ingress") or []:
                ports = np_ports(rule)
                if ports is None:
                    self.err(obj, where + "an ingress rule without ports opens every port")
                elif serves and not ports <= http_ports:
                    self.err(obj, where + f"ingress to {show_ports(ports - http_ports)}: "
                             "only the HTTP port (APP_HTTP__PORT) may be open")
            for rule in p["spec"].get("egress") or []:
                ports = np_ports(rule)
                if ports is None:
                    self.err(obj, where + "an egress rule without ports allows every port")
                    continue
                egress_ports |= ports
                external = not rule.get("to") or any("ipBlock" in peer for peer in rule["to"])
                allowed = EXTERNAL_EGRESS.get(app, set())
                if external and not ports <= allowed:
                    self.err(obj, where + f"egress outside the cluster to {show_ports(ports)}: "
                             + (f"{app} may reach only {show_ports(allowed)} there" if allowed else
                                f"only {', '.join(sorted(EXTERNAL_EGRESS))} may (it calls the brokers)"))
        # What it cannot run without: a policy must not cut the service off.
        needed = {("UDP", DNS_PORT): "DNS"}
        for c in containers:
            cfg = self.settings(c)
            if serves:
                needed[("TCP", nats_port(cfg.get("APP_NATS__URL")))] = "NATS"
            if any(e["name"] == "APP_DATABASE__URL" for e in c.get("env") or []):
                needed[("TCP", POSTGRES_PORT)] = "Postgres"
        for port, what in sorted(needed.items(), key=str):
            if port not in egress_ports:
                self.err(obj, f"its NetworkPolicy blocks {what}: no egress to {port[1]}/{port[0]}")

    def check_migration_secrets(self, job):
        """A migration connects to Postgres only: no NATS credentials (a NATS user
        without its password even fails the settings' validation) and no
        encryption key."""
        for c in job["spec"]["template"]["spec"]["containers"]:
            where = f"container {c['name']}: "
            cfg = self.settings(c)
            env = c.get("env") or []
            names = set(cfg) | {e["name"] for e in env}
            for key in JOB_FORBIDDEN_SETTINGS:
                if key in names:
                    self.err(job, where + f"a migration must not get {key}: it connects to "
                             "Postgres only (set NATS credentials on the Deployment, not in the "
                             "shared ConfigMap)")
            for e in env:
                key = ((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("key", "")
                if "ENCRYPTION" in e["name"].upper() or "encryption" in key.lower():
                    self.err(job, where + f"a migration must not get the encryption key ({e['name']})")
            for src in c.get("envFrom") or []:
                if "secretRef" in src:
                    self.err(job, where + "a migration must not take a whole Secret (envFrom "
                             "secretRef): it would get the NATS password and any encryption key")

    def check_job(self, job):
        self.check_pod(job, job["spec"]["template"]["spec"])
        labels = job["spec"]["template"]["metadata"].get("labels") or {}
        app = labels.get("app.kubernetes.io/name", job["metadata"]["name"])
        self.check_migration_secrets(job)
        self.check_network_policy(job, app, labels, job["spec"]["template"]["spec"], serves=False)
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
            for key, value in data.items():
                if SECRET_ENV.search(key):
                    self.errors.append(f"ConfigMap/{cm_name}: {key} is a credential; use a Secret")
                if URL_WITH_PASSWORD.match(str(value)):
                    self.errors.append(f"ConfigMap/{cm_name}: {key} is a URL with a password in "
                                       "it; credentials come from a Secret")
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
