"""A plan as KubeRay manifests: a `RayCluster` (ray.io/v1) whose worker groups are the plan's
workers, a Service for the HTTP API and metrics, the plan in a ConfigMap, the models as a volume.

- One worker group per hardware type, replicas = the plan's workers of that type (dedicated,
  shared and pool workers, each counted once: `Plan.workers_by_hardware`). One pod = one worker:
  it advertises exactly what one worker actor asks for (`ray_backend.actor_options`): one logical
  CPU and one unit of the custom resource named after its hardware type, so Ray places each
  actor on a pod of its type. The group name is the hardware name as a DNS label; the exact
  name is in the resource and in the `skinflint.io/hardware` annotation.
- The head runs Ray's head (KubeRay's `ray start --head`, no logical CPUs: no actor lands there)
  and `skinflint serve APP --plan PLAN --backend ray --address auto`, started in the background
  before `ray start` as KubeRay's docs describe for commands that run after the cluster is up
  (docs/guidance/pod-command.md, ray-project/kuberay), retried until it serves.
- The models: the app folder (app.yaml, profiles, hardware, models/*.onnx) on a volume mounted
  read-only at the same path in every pod (the Ray backend reads models by path): a
  PersistentVolumeClaim (ReadWriteMany, e.g. EFS or Filestore) or a hostPath already on every
  node. Not a ConfigMap: its 1 MiB limit is below one ONNX model.
- With a peak plan, the Ray autoscaler may grow each group from the plan's count up to the peak
  plan's (minReplicas / maxReplicas); without one, every group is fixed at its count.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from skinflint.deploy.hardware_map import HardwareMap, PodSize, k8s_name, pod_size
from skinflint.errors import SpecError
from skinflint.plan import Plan
from skinflint.runtime.backends.ray_backend import actor_options

RAY_VERSION = "2.60.0"          # the Ray this project is tested with (pyproject: ray>=2.40)
MOUNT = "/srv/skinflint"         # the app folder on the models volume
CONFIG_MOUNT = "/etc/skinflint"  # plan.json and start-serve.sh from the ConfigMap
HARDWARE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")   # safe inside ray start --resources
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


@dataclass(frozen=True)
class K8sOptions:
    """What the manifests need beyond the plan (command-line options of `deploy k8s`)."""

    image: str = "skinflint-ray:latest"
    name: str | None = None              # default: skinflint-APP
    namespace: str | None = None
    app_file: str = "app.yaml"           # relative to the models volume
    models_volume: str = "pvc"           # pvc, or hostpath:/path/on/every/node
    claim: str = "skinflint-models"
    claim_size: str = "20Gi"
    storage_class: str | None = None
    port: int = 8000
    ray_version: str = RAY_VERSION


def _meta(name: str, cluster: str, options: K8sOptions, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if options.namespace:
        meta["namespace"] = options.namespace
    meta["labels"] = {"app.kubernetes.io/name": "skinflint", "app.kubernetes.io/part-of": cluster}
    return meta | extra


def cluster_name(plan: Plan, options: K8sOptions) -> str:
    """The RayCluster's name (also the prefix of the Service and ConfigMap)."""
    return k8s_name(options.name or f"skinflint-{plan.app}")


def models_volume(options: K8sOptions) -> dict[str, Any]:
    """The pod volume holding the app folder."""
    if options.models_volume == "pvc":
        return {"name": "models", "persistentVolumeClaim": {"claimName": options.claim, "readOnly": True}}
    if options.models_volume.startswith("hostpath:/"):
        return {"name": "models", "hostPath": {"path": options.models_volume.split(":", 1)[1], "type": "Directory"}}
    raise SpecError("command line", "--models-volume", f"unknown volume {options.models_volume!r}",
                    "write pvc, or hostpath:/path/on/every/node")


def _container(name: str, options: K8sOptions, size: PodSize, **extra: Any) -> dict[str, Any]:
    amounts: dict[str, Any] = {"cpu": size.cpu, "memory": size.memory}
    if size.gpus:
        amounts["nvidia.com/gpu"] = size.gpus
    mounts = [{"name": "models", "mountPath": MOUNT, "readOnly": True}] + extra.pop("mounts", [])
    return {"name": name, "image": options.image, **extra,
            "resources": {"requests": dict(amounts), "limits": dict(amounts)}, "volumeMounts": mounts}


def _pod(container: dict[str, Any], size: PodSize, volumes: list[dict[str, Any]],
         annotations: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [container], "volumes": volumes}
    if size.node_selector:
        spec["nodeSelector"] = dict(size.node_selector)
    if size.gpus:
        spec["tolerations"] = [dict(GPU_TOLERATION)]
    template: dict[str, Any] = {"spec": spec}
    if annotations:
        template["metadata"] = {"annotations": annotations}
    return template


def serve_script(options: K8sOptions) -> str:
    """The head's serve loop: wait for Ray, serve the plan, retry if it stops (e.g. workers not up yet)."""
    command = (f"skinflint serve {MOUNT}/{options.app_file} --plan {CONFIG_MOUNT}/plan.json --models {MOUNT}/models "
               f"--backend ray --address auto --host 0.0.0.0 --port {options.port}")
    return ("#!/bin/sh\n# Runs in the background before KubeRay's `ray start --head`; SKINFLINT_TOKEN comes from\n"
            "# the optional Secret skinflint-token.\nuntil ray health-check >/dev/null 2>&1; do sleep 1; done\n"
            f"while true; do\n  {command}\n"
            "  echo \"skinflint serve exited ($?); retrying in 10 s\"\n  sleep 10\ndone\n")


def head_group(name: str, hmap: HardwareMap, options: K8sOptions) -> dict[str, Any]:
    """The head: Ray's head process plus `skinflint serve` in the background."""
    env = [{"name": "SKINFLINT_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "skinflint-token", "key": "token", "optional": True}}}]
    ports = [{"containerPort": 6379, "name": "gcs-server"}, {"containerPort": 8265, "name": "dashboard"},
             {"containerPort": 10001, "name": "client"}, {"containerPort": options.port, "name": "http"}]
    container = _container("ray-head", options, hmap.head, command=[f"(sh {CONFIG_MOUNT}/start-serve.sh &)"],
                           env=env, ports=ports, mounts=[{"name": "plan", "mountPath": CONFIG_MOUNT}])
    volumes = [models_volume(options), {"name": "plan", "configMap": {"name": f"{name}-plan"}}]
    return {"serviceType": "ClusterIP", "rayStartParams": {"num-cpus": "0", "dashboard-host": "0.0.0.0"},
            "template": _pod(container, hmap.head, volumes)}


def worker_group(hardware: str, workers: int, most: int, size: PodSize, options: K8sOptions) -> dict[str, Any]:
    """`workers` pods of one hardware type (the autoscaler may go up to `most`)."""
    if not HARDWARE_NAME.match(hardware):
        raise SpecError("plan", f"hardware {hardware!r}", "the name has characters a Ray resource cannot carry on "
                        "the ray start command line", "use letters, digits, spaces, '.', '_' and '-' only")
    ask = actor_options(hardware)
    params = {"num-cpus": str(ask["num_cpus"]), "resources": json.dumps(json.dumps(ask["resources"]))}
    container = _container("ray-worker", options, size)
    return {"groupName": k8s_name(hardware), "replicas": workers, "minReplicas": workers, "maxReplicas": most,
            "rayStartParams": params,
            "template": _pod(container, size, [models_volume(options)], {"skinflint.io/hardware": hardware})}


def raycluster(plan: Plan, hmap: HardwareMap, source: Path, options: K8sOptions,
               peak: Plan | None = None) -> dict[str, Any]:
    """The RayCluster of `plan` (autoscaling between it and `peak` where a peak plan is given)."""
    name = cluster_name(plan, options)
    now = plan.workers_by_hardware()
    most = peak.workers_by_hardware() if peak is not None else {}
    groups = [worker_group(hw, now.get(hw, 0), max(now.get(hw, 0), most.get(hw, 0)), pod_size(hmap, source, hw),
                           options) for hw in sorted(set(now) | set(most))]
    if len({g["groupName"] for g in groups}) != len(groups):
        raise SpecError("plan", "hardware", "two hardware types give the same Kubernetes group name",
                        "rename one of them in the catalog")
    spec: dict[str, Any] = {"rayVersion": options.ray_version, "enableInTreeAutoscaling": peak is not None}
    if peak is not None:
        spec["autoscalerOptions"] = {"upscalingMode": "Default", "idleTimeoutSeconds": 60}
    spec |= {"headGroupSpec": head_group(name, hmap, options), "workerGroupSpecs": groups}
    notes = {"skinflint.io/app": plan.app, "skinflint.io/planner": plan.planner,
             "skinflint.io/cost-per-hour": f"{plan.cost_per_hour:.4f}", "skinflint.io/rate": f"{plan.rate:g}"}
    return {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": _meta(name, name, options, annotations=notes),
            "spec": spec}


def service(plan: Plan, options: K8sOptions) -> dict[str, Any]:
    """The HTTP API and /metrics of the head (Prometheus scrape annotations included)."""
    name = cluster_name(plan, options)
    scrape = {"prometheus.io/scrape": "true", "prometheus.io/port": str(options.port), "prometheus.io/path": "/metrics"}
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(f"{name}-http", name, options, annotations=scrape),
            "spec": {"type": "ClusterIP", "selector": {"ray.io/cluster": name, "ray.io/node-type": "head"},
                     "ports": [{"name": "http", "port": options.port, "targetPort": options.port}]}}


def plan_configmap(plan: Plan, options: K8sOptions) -> dict[str, Any]:
    """plan.json and the head's serve loop."""
    name = cluster_name(plan, options)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(f"{name}-plan", name, options),
            "data": {"plan.json": plan.to_json(), "start-serve.sh": serve_script(options)}}


def models_claim(plan: Plan, options: K8sOptions) -> dict[str, Any]:
    """The claim holding the app folder (shared by every pod, mounted read-only)."""
    spec: dict[str, Any] = {"accessModes": ["ReadWriteMany"],
                            "resources": {"requests": {"storage": options.claim_size}}}
    if options.storage_class:
        spec["storageClassName"] = options.storage_class
    meta = _meta(options.claim, cluster_name(plan, options), options)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec}


def manifests(plan: Plan, hmap: HardwareMap, source: Path, options: K8sOptions,
              peak: Plan | None = None) -> dict[str, dict[str, Any]]:
    """File name -> Kubernetes object, one object per file."""
    out = {"raycluster.yaml": raycluster(plan, hmap, source, options, peak), "service.yaml": service(plan, options),
           "plan-configmap.yaml": plan_configmap(plan, options)}
    if options.models_volume == "pvc":
        out["models-pvc.yaml"] = models_claim(plan, options)
    return out


def write_manifests(objects: dict[str, dict[str, Any]], out_dir: Path) -> list[Path]:
    """Write each object as YAML under `out_dir` (created); the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for file_name, obj in objects.items():
        path = out_dir / file_name
        path.write_text(yaml.safe_dump(obj, sort_keys=False, width=120), encoding="utf-8")
        paths.append(path)
    return paths
