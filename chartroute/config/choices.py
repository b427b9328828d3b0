"""Config field types for the vocabulary's codes: the YAML spells a code, the model holds a member.

A field typed with one of these accepts exactly the codes listed (a subset of an enum where
the file allows only some, e.g. the roles a work item can go to), rejects anything else with
the list of what is allowed, and shows in ``chartroute config schema`` as a string enum, just
as the codes were spelled out in the models before they moved to ``chartroute.vocabulary``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from chartroute.vocabulary import (
    GAP_KEYS,
    ROUTED_CATEGORIES,
    WORK_ROLES,
    Category,
    DocumentationField,
    Role,
)


@dataclass(frozen=True)
class OneOf:
    """Accept only these codes; hold them as members of the annotated enum (if it is one)."""

    codes: tuple[str, ...]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        allowed = core_schema.literal_schema([str(code) for code in self.codes])
        if isinstance(source, type) and issubclass(source, StrEnum):
            return core_schema.no_info_after_validator_function(
                source, allowed, serialization=core_schema.to_string_ser_schema(when_used="json")
            )
        return allowed


#: Any blocker category.
CategoryCode = Annotated[Category, OneOf(tuple(Category))]
#: A category routed by category (``routing.categories``): not documentation gaps.
RoutedCategoryCode = Annotated[Category, OneOf(ROUTED_CATEGORIES)]
#: Any role on the roster.
RoleCode = Annotated[Role, OneOf(tuple(Role))]
#: A role work items are routed to (``escalation.managers`` is keyed by these).
WorkRoleCode = Annotated[Role, OneOf(WORK_ROLES)]
#: A field a chart can be required to carry.
FieldCode = Annotated[DocumentationField, OneOf(tuple(DocumentationField))]
#: A key of the per-field settings of documentation gaps: a field, or ``forms``.
GapKeyCode = Annotated[str, OneOf(GAP_KEYS)]
