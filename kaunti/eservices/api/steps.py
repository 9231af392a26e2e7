"""Staff work through the API: the work queue, acting on a step, reassigning it."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kaunti.accounts.api_permissions import HasAction
from kaunti.accounts.models import User
from kaunti.core.api import problems
from kaunti.core.api_support import api_user, service_refusal, validated
from kaunti.eservices.api.access import STEP_ACTIONS, application_to_view, step_to_act_on
from kaunti.eservices.selectors import applications as application_selectors
from kaunti.eservices.serializers import (
    ApplicationOutput,
    StepActionInput,
    StepAssignmentOutput,
    StepReassignInput,
    WorkQueueOutput,
)
from kaunti.eservices.services import workflow


class WorkQueueApi(APIView):
    permission_classes = [HasAction(*STEP_ACTIONS)]

    @extend_schema(
        operation_id="list_work_queue",
        summary="Open steps the caller may act on, soonest due first",
        responses={200: WorkQueueOutput(many=True), **problems(401, 403)},
    )
    def get(self, request: Request) -> Response:
        steps = application_selectors.list_work_queue(
            user=request.user,
            service_code=str(request.query_params.get("service", ""))[:40],
            ward_code=str(request.query_params.get("ward", ""))[:10],
            overdue_only=request.query_params.get("overdue") == "true",
        )[:200]
        return Response(WorkQueueOutput(steps, many=True).data)


class StepActionApi(APIView):
    permission_classes = [HasAction(*STEP_ACTIONS)]

    @extend_schema(
        operation_id="act_on_application_step",
        summary="approve, reject, return (for changes) or inspect one step",
        description=(
            "The caller needs the step kind's action in the step's department; reject and "
            "return need a note, inspect needs `passed`."
        ),
        request=StepActionInput,
        responses={200: ApplicationOutput, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, reference: str, code: str, action: str) -> Response:
        if action not in ("approve", "reject", "return", "inspect"):
            raise exceptions.NotFound(_("There is no such action."))
        data = validated(StepActionInput, request.data)
        step = step_to_act_on(request, reference, code)
        actor = api_user(request)
        try:
            if action == "approve":
                application = workflow.approve_step(step=step, actor=actor, note=data["note"])
            elif action == "reject":
                application = workflow.reject_application(
                    step=step, actor=actor, reason=data["note"]
                )
            elif action == "return":
                application = workflow.return_for_changes(step=step, actor=actor, note=data["note"])
            else:
                if data["passed"] is None:
                    raise exceptions.ValidationError({"passed": [_("Say whether it passed.")]})
                application = workflow.record_inspection_result(
                    step=step, actor=actor, passed=data["passed"], notes=data["note"]
                )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        # The services answer with the application as they left it (read under its lock,
        # with what the answer shows): no second read.
        return Response(ApplicationOutput(application).data)


REASSIGN = "eservices.reassign"


class StepReassignApi(APIView):
    permission_classes = [HasAction(REASSIGN)]

    @extend_schema(
        operation_id="reassign_application_step",
        summary="A supervisor gives a step to one officer, or back to the whole team",
        description=(
            "Needs the supervisor role in the step's department; the officer must hold the "
            "step's role there, and separation of duties applies."
        ),
        request=StepReassignInput,
        responses={200: StepAssignmentOutput, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, reference: str, code: str) -> Response:
        data = validated(StepReassignInput, request.data)
        application = application_to_view(request, reference)
        step = application_selectors.get_step_for_staff(
            user=request.user, application=application, code=code
        )
        if step is None:
            raise exceptions.NotFound(_("There is no such step."))
        assignee = None
        if data.get("assignee"):
            assignee = User.objects.filter(username=data["assignee"], is_active=True).first()
            if assignee is None:
                raise exceptions.ValidationError({"assignee": [_("There is no such officer.")]})
        try:
            step = workflow.reassign_step(
                step=step, actor=api_user(request), assignee=assignee, reason=data["reason"]
            )
        except DjangoValidationError as exc:
            raise service_refusal(exc) from exc
        return Response(StepAssignmentOutput(step).data)
