"""A structural check of a KubeRay RayCluster (ray.io/v1), written from the fields the KubeRay API
reference lists: https://ray-project.github.io/kuberay/reference/api/ (RayCluster, RayClusterSpec,
HeadGroupSpec, WorkerGroupSpec, AutoscalerOptions; docs/reference/api.md in ray-project/kuberay).

No PyPI package ships the RayCluster CRD's schema (KubeRay's Python client is installed from its
repository), so this JSON Schema lists those fields, their types and enums, and rejects any other
field at every RayCluster level. Pod templates are core PodTemplateSpecs: the tests validate them
with kubernetes-validate against the published Kubernetes schema instead.
"""

from __future__ import annotations

STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
OBJ = {"type": "object"}
INT = {"type": "integer", "minimum": 0}
ARRAY = {"type": "array"}

AUTOSCALER_OPTIONS = {
    "type": "object", "additionalProperties": False,
    "properties": {"resources": OBJ, "image": {"type": "string"}, "imagePullPolicy": {"type": "string"},
                   "securityContext": OBJ, "idleTimeoutSeconds": INT,
                   "upscalingMode": {"enum": ["Default", "Aggressive", "Conservative"]}, "version": {"enum": ["v1", "v2"]},
                   "env": ARRAY, "envFrom": ARRAY, "volumeMounts": ARRAY},
}
HEAD_GROUP_SPEC = {
    "type": "object", "additionalProperties": False, "required": ["template"],
    "properties": {"template": OBJ, "headService": OBJ, "enableIngress": {"type": "boolean"},
                   "rayStartParams": STR_MAP, "serviceType": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]}},
}
WORKER_GROUP_SPEC = {
    "type": "object", "additionalProperties": False, "required": ["groupName", "template"],
    "properties": {"suspend": {"type": "boolean"},
                   "groupName": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
                   "replicas": INT, "minReplicas": INT, "maxReplicas": INT, "idleTimeoutSeconds": INT,
                   "rayStartParams": STR_MAP, "template": OBJ, "scaleStrategy": OBJ, "numOfHosts": INT},
}
RAY_CLUSTER = {
    "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "ray.io/v1"}, "kind": {"const": "RayCluster"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {"type": "object", "additionalProperties": False, "required": ["headGroupSpec"],
                 "properties": {"suspend": {"type": "boolean"}, "managedBy": {"type": "string"},
                                "autoscalerOptions": AUTOSCALER_OPTIONS, "headServiceAnnotations": STR_MAP,
                                "enableInTreeAutoscaling": {"type": "boolean"}, "gcsFaultToleranceOptions": OBJ,
                                "headGroupSpec": HEAD_GROUP_SPEC, "rayVersion": {"type": "string"},
                                "workerGroupSpecs": {"type": "array", "items": WORKER_GROUP_SPEC}}},
    },
}


def replica_problems(cluster: dict) -> list[str]:
    """What the schema cannot say: minReplicas <= replicas <= maxReplicas, group names unique."""
    out, names = [], []
    for g in cluster["spec"].get("workerGroupSpecs", []):
        lo, n, hi = g.get("minReplicas", 0), g.get("replicas", 0), g.get("maxReplicas", 2**31 - 1)
        if not lo <= n <= hi:
            out.append(f"{g['groupName']}: replicas {n} outside [{lo}, {hi}]")
        names.append(g["groupName"])
    if len(set(names)) != len(names):
        out.append(f"duplicate group names {names}")
    return out
