"""Measure batch latency with ONNX Runtime and write the profile CSV of FORMATS.md.

    from skinflint.profiling import ProfileOptions, profile_model, write_profile
    points = profile_model("resnet18.onnx", hardware="c7a.large", options=ProfileOptions(batch_sizes=(1, 2, 4)))
    write_profile(points, "profiles.csv")          # merges into an existing file

The zoo of locally built models is `skinflint.profiling.zoo` (needs the `onnx` package).
"""

from skinflint.profiling.csvfile import combine_runs, read_rows, write_profile, write_rows
from skinflint.profiling.measure import Measurement, MeasureOptions, measure
from skinflint.profiling.profiler import (ProfileOptions, ProfilePoint, Profiler, Progress, non_monotone,
                                          profile_model)

__all__ = ["Measurement", "MeasureOptions", "ProfileOptions", "ProfilePoint", "Profiler", "Progress",
           "combine_runs", "measure", "non_monotone", "profile_model", "read_rows", "write_profile", "write_rows"]
