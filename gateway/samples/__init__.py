"""Valid, coherent sample messages of iJw 3.2 and iWmo 3.2 for tests, corpora and benchmarks.

    from gateway import samples
    samples.build("JW301")                               # a default valid message of any of 28 types
    samples.allocation("iwmo", products=(samples.Allocated(toewijzingnummer=7),))
    samples.declaration("ijw", clients={samples.BSNS[3]: [samples.Prestatie(volume=4)]})
    samples.retour(samples.start())                       # a JW306 for that JW305

Defaults are relative to today (see gateway.samples.params) and form one story: toewijzing 1001,
started on its Ingangsdatum, stopped and declared last month. BSNs come from `BSNS` (fictitious,
9999xxxxx, elfproef-valid).
"""

from gateway.samples.bsn import BSNS, elfproef
from gateway.samples.defaults import build
from gateway.samples.heen import (
    AANBIEDER,
    GEMEENTE,
    allocation,
    answer,
    change_request,
    declaration,
    request,
    signed_total,
    start,
    stop,
)
from gateway.samples.large import large_declaration, large_declaration_allocations
from gateway.samples.params import (
    AUTO,
    DEFAULT_PRODUCT,
    DEFAULT_STOP_REASON,
    DEFAULT_TARIEF,
    DEFAULT_TOEWIJZINGNUMMER,
    Allocated,
    NewProduct,
    Prestatie,
    Requested,
    Started,
    Stopped,
    ToChange,
    Unchanged,
    allocation_end,
    allocation_start,
    resolve,
)
from gateway.samples.retours import declaration_answer, retour
from gateway.samples.xmlbuild import XSD_VERSIONS, previous_month

__all__ = [
    "AANBIEDER", "AUTO", "Allocated", "BSNS", "DEFAULT_PRODUCT", "DEFAULT_STOP_REASON", "DEFAULT_TARIEF",
    "DEFAULT_TOEWIJZINGNUMMER", "GEMEENTE", "NewProduct", "Prestatie", "Requested", "Started", "Stopped",
    "ToChange", "Unchanged", "XSD_VERSIONS", "allocation", "allocation_end", "allocation_start", "answer",
    "build", "change_request", "declaration", "declaration_answer", "elfproef", "large_declaration",
    "large_declaration_allocations",
    "previous_month", "request", "resolve", "retour", "signed_total", "start", "stop",
]
