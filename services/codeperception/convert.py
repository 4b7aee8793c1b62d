"""Plain results <-> proto messages: fidelity reports and candidate statuses."""
from __future__ import annotations

from .fidelity import IMAGE_AND_TRACE, METRICS, FidelityReport
from .protos import codeperception_pb2 as pb
from .protos import sandbox_pb2

# A render's status as the candidate's status (the names match, past their prefixes).
CANDIDATE_STATUS_OF_RENDER = {
    value: pb.CandidateStatus.Value("CANDIDATE_STATUS_" + name.removeprefix("RENDER_STATUS_"))
    for name, value in sandbox_pb2.RenderStatus.items() if value != sandbox_pb2.RENDER_STATUS_UNSPECIFIED
}
_MODES = {IMAGE_AND_TRACE: pb.FIDELITY_MODE_IMAGE_AND_TRACE}


def fidelity_to_proto(report: FidelityReport) -> pb.Fidelity:
    message = pb.Fidelity(aggregate=report.aggregate, mode=_MODES.get(report.mode, pb.FIDELITY_MODE_IMAGE_ONLY),
                          computed=list(report.computed))
    for name in METRICS:
        value = getattr(report, name)
        if value is not None:
            setattr(message, name, value)
    return message
