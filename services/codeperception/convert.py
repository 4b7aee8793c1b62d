"""Plain results <-> proto messages: fidelity reports, candidate statuses and origins."""
from __future__ import annotations

from .backends.base import Generation
from .fidelity import IMAGE_AND_TRACE, METRICS, FidelityReport
from .protos import codeperception_pb2 as pb
from .protos import sandbox_pb2

# A render's status as the candidate's status (the names match, past their prefixes).
CANDIDATE_STATUS_OF_RENDER = {
    value: pb.CandidateStatus.Value("CANDIDATE_STATUS_" + name.removeprefix("RENDER_STATUS_"))
    for name, value in sandbox_pb2.RenderStatus.items() if value != sandbox_pb2.RENDER_STATUS_UNSPECIFIED
}
_MODES = {IMAGE_AND_TRACE: pb.FIDELITY_MODE_IMAGE_AND_TRACE}


def set_origin(candidate: pb.Candidate, generation: Generation) -> None:
    """Where the candidate's program came from: `origin` (a backend's ORIGIN_* name is the enum's, past
    its prefix) and, for a retrieved program, its `neighbour`."""
    candidate.origin = pb.CandidateOrigin.Value("CANDIDATE_ORIGIN_" + generation.origin.upper())
    if generation.neighbour is not None:
        n = generation.neighbour
        candidate.neighbour.CopyFrom(pb.Neighbour(family=n.family, seed=n.seed, rank=n.rank, distance=n.distance))


def fidelity_to_proto(report: FidelityReport) -> pb.Fidelity:
    message = pb.Fidelity(aggregate=report.aggregate, mode=_MODES.get(report.mode, pb.FIDELITY_MODE_IMAGE_ONLY),
                          computed=list(report.computed))
    for name in METRICS:
        value = getattr(report, name)
        if value is not None:
            setattr(message, name, value)
    return message
