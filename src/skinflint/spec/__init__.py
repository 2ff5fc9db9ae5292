"""Inputs: hardware catalog, profiles and applications, validated at the edge and frozen inside."""

from skinflint.spec.loader import load_spec
from skinflint.spec.types import App, Hardware, Module, ProfileCurve, Profiles, Spec

__all__ = ["App", "Hardware", "Module", "ProfileCurve", "Profiles", "Spec", "load_spec"]
