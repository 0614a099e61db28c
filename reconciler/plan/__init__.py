"""The plan as typed data: changes with their address, action and details (model.py, address.py,
details.py), the rules an apply runs under (policy.py), the saved-plan file (planfile.py) and its
renderers (render/). Nothing here reads a server."""

from .address import Address, Kind
from .details import Details, Finding, RevisionInfo, Risk
from .model import Action, Change, FieldChange, Plan

__all__ = ["Action", "Address", "Change", "Details", "FieldChange", "Finding", "Kind", "Plan", "RevisionInfo", "Risk"]
