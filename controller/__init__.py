"""bpfsystrace: systrace policies enforced by BPF-LSM programs.

The pipeline, one module per stage: policy.parse -> model.check ->
compile.records -> kernel (loader, maps) -> events/counters.
"""

__version__ = "0.1.0"
