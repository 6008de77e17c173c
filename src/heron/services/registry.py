"""The model registry's use cases and rules: register, alias, stage, govern, audit.

Every caller says who acts (``actor``): the embedded client passes the local user, the
server the authenticated request's user. Refused attempts on governed operations are
written to the audit log too, so the log shows who tried what, not only what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import yaml

from heron.artifacts.base import ArtifactRepository, clean_artifact_path
from heron.entities import LifecycleStage, Page
from heron.entities.logged_model import LoggedModel
from heron.entities.model_uri import (
    RUNS_SCHEME,
    ModelReference,
    parse_model_uri,
    parse_runs_uri,
    refuse_encoded_separators,
)
from heron.entities.registry import (
    AuditEvent,
    LabelChange,
    LineageGraph,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RemoveAlias,
    RequestStatus,
    Role,
    SetAlias,
    SetStage,
    Stage,
    TransitionRequest,
)
from heron.errors import (
    AlreadyExists,
    Conflict,
    HeronError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from heron.search.ast import MODEL_VERSIONS, MODELS
from heron.search.parser import parse_filter, parse_order_by
from heron.services.lineage import dataset_lineage, model_lineage, run_lineage
from heron.services.logged_models import LoggedModelService, is_logged_model_id
from heron.services.registry_rules import (
    STAGE_PREFIX,
    deleted_model_name,
    parse_target,
    protected_label_set,
    target_stage,
    validate_alias,
    validate_description,
    validate_model_name,
)
from heron.services.tracking import TrackingService, now_ms
from heron.services.validation import validate_key, validate_max_results, validate_tag_value
from heron.store.base import ViewType
from heron.store.registry_base import Change, NewVersion, RegistryStore

# libyaml's parser where PyYAML has it: reading a manifest took 5 ms in pure Python.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The files that mark a folder as a model: Heron's manifest, or an MLflow model.
MODEL_MANIFESTS = ("heron-model.yaml", "MLmodel")
MODELS_SCHEME = "models:/"


@dataclass(frozen=True)
class Decision:
    approve: bool
    comment: str


class TransitionReviewer(Protocol):
    """Decides a transition request automatically (a promotion gate), or abstains (None).

    The hook for promotion gates: the registry calls each reviewer when a request is
    opened, and the first decision resolves it, recorded under the reviewer's name.
    """

    name: str

    def review(self, request: TransitionRequest, version: ModelVersion) -> Decision | None: ...


class RegistryService:
    def __init__(
        self,
        store: RegistryStore,
        tracking: TrackingService,
        *,
        reviewers: Sequence[TransitionReviewer] = (),
        clock: Callable[[], int] = now_ms,
        logged_models: LoggedModelService | None = None,
    ) -> None:
        self.store = store
        self.tracking = tracking
        # Versions can be registered from MLflow 3 logged models (models:/<model_id>)
        # only where their store is known: on a server, or embedded with one.
        self.logged_models = logged_models
        self.reviewers = list(reviewers)
        self._clock = clock

    def _change(self, actor: str, reason: str = "") -> Change:
        return Change(actor=actor, now=self._clock(), reason=reason)

    # -- registered models -------------------------------------------------------------

    def create_model(
        self,
        name: str,
        actor: str,
        *,
        description: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> RegisteredModel:
        return self.store.create_model(
            validate_model_name(name),
            validate_description(description),
            _clean_tags(tags),
            self._change(actor),
        )

    def get_model(self, name: str) -> RegisteredModel:
        return self.store.get_model(name)

    def search_models(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        return self.store.search_models(
            parse_filter(filter_string, MODELS),
            parse_order_by(order_by, MODELS),
            view,
            validate_max_results(max_results),
            page_token,
        )

    def rename_model(self, name: str, new_name: str, actor: str) -> RegisteredModel:
        return self.store.update_model(
            name, self._change(actor), new_name=validate_model_name(new_name)
        )

    def update_model(self, name: str, description: str, actor: str) -> RegisteredModel:
        return self.store.update_model(
            name, self._change(actor), description=validate_description(description)
        )

    def delete_model(self, name: str, actor: str, *, free_name: bool = False) -> None:
        """Soft delete: the model, its versions and its history stay, and ``restore_model``
        brings them back. ``free_name`` also renames it, in the same change, to
        ``deleted_model_name(name, now)``, so that the name can be registered again (MLflow's
        delete is a hard one, and its users expect that) while the model stays restorable
        under its new name."""
        change = self._change(actor)
        new_name = deleted_model_name(name, change.now) if free_name else None
        self.store.update_model(name, change, new_name=new_name, lifecycle=LifecycleStage.DELETED)

    def restore_model(self, name: str, actor: str) -> None:
        self.store.update_model(name, self._change(actor), lifecycle=LifecycleStage.ACTIVE)

    def set_model_tag(self, name: str, key: str, value: object, actor: str) -> None:
        key = validate_key("tag", key)
        self.store.set_model_tag(name, key, validate_tag_value(key, value), self._change(actor))

    def delete_model_tag(self, name: str, key: str, actor: str) -> None:
        self.store.set_model_tag(name, validate_key("tag", key), None, self._change(actor))

    def set_policy(
        self,
        name: str,
        actor: str,
        *,
        protected_aliases: Sequence[str] | None = None,
        allow_self_approval: bool | None = None,
    ) -> RegisteredModel:
        """Which aliases (and stages) of a model only move through approved requests."""
        self._require_role(actor, Role.ADMIN, "policy.set", name)
        labels = None if protected_aliases is None else protected_label_set(protected_aliases)
        return self.store.update_model(
            name,
            self._change(actor),
            protected_aliases=labels,
            allow_self_approval=allow_self_approval,
        )

    # -- versions ----------------------------------------------------------------------

    def register_model(
        self,
        source: str,
        name: str,
        actor: str,
        *,
        run_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, object] | None = None,
        model: RegisteredModel | None = None,
    ) -> ModelVersion:
        """A new version of model ``name`` (created if needed) from a run's model folder.

        ``model``: the model named ``name``, if the caller has just read it (each lookup
        is a database round trip or more)."""
        name = validate_model_name(name)
        description = validate_description(description)
        clean_tags = _clean_tags(tags)
        logged = self._logged_model_source(source, run_id)
        version_run_id: str | None
        if logged is not None:
            version_run_id, path, signature = logged.source_run_id or run_id, "", ""
        else:
            version_run_id, root, path = self._resolve_source(source, run_id)
            # One artifact store for both reads: the run's folder is looked up once.
            artifacts = self.tracking.artifacts_at(root)
            self._require_model_files(artifacts, version_run_id, path)
            signature = self._signature_summary(artifacts, path)
        if model is None or model.name != name:
            try:
                model = self.store.get_model(name)
            except NotFound:
                try:
                    model = self.store.create_model(name, "", {}, self._change(actor))
                except AlreadyExists:
                    model = self.store.get_model(name)  # created concurrently: use it
        if model.lifecycle_stage is LifecycleStage.DELETED:
            raise InvalidArgument(f"registered model {name!r} is deleted: restore it first")
        new = NewVersion(
            source=source,
            run_id=version_run_id,
            artifact_path=path,
            status=ModelVersionStatus.READY,
            description=description,
            signature=signature,
            tags=clean_tags,
        )
        return self.store.create_version(name, new, self._change(actor))

    def _logged_model_source(self, source: object, run_id: str | None) -> LoggedModel | None:
        """The logged model a ``models:/<model_id>`` source names, with its files checked;
        None for any other source (the run-artifact rules below apply to those)."""
        if self.logged_models is None or not isinstance(source, str):
            return None
        model_id = _logged_model_id(source)
        if model_id is None:
            return None
        logged = self.logged_models.get_logged_model(model_id)
        if run_id is not None and logged.source_run_id not in (None, run_id):
            raise InvalidArgument(
                f"source {source!r} was logged by run {logged.source_run_id}, not run_id {run_id}"
            )
        if run_id is not None and logged.source_run_id is None:
            self.tracking.get_run(run_id)
        names = {f.path.rsplit("/", 1)[-1] for f in self.logged_models.list_artifacts(model_id)}
        if not names.intersection(MODEL_MANIFESTS):
            raise InvalidArgument(
                f"logged model {model_id} holds no model ({' or '.join(MODEL_MANIFESTS)} is "
                "missing): upload its files before registering it"
            )
        return logged

    def _resolve_source(self, source: str, run_id: str | None) -> tuple[str, str, str]:
        """(run id, the run's artifact root, path in its artifacts) of a source, refusing
        anything outside the run."""
        if not isinstance(source, str) or not source:
            raise InvalidArgument("a model version needs a source, e.g. runs:/<run_id>/model")
        refuse_encoded_separators(source)
        if source.startswith(RUNS_SCHEME):
            reference = parse_runs_uri(source)
            if run_id is not None and run_id != reference.run_id:
                raise InvalidArgument(
                    f"source {source!r} names run {reference.run_id}, not run_id {run_id}"
                )
            root = self.tracking.run_artifact_root(reference.run_id)
            return reference.run_id, root, _clean_model_path(reference.path, source)
        if run_id is None:
            raise InvalidArgument(
                f"source {source!r} is not a runs:/ URI: give the run_id it belongs to, or "
                "register runs:/<run_id>/<path>; Heron registers models from runs' artifacts"
            )
        artifact_root = self.tracking.run_artifact_root(run_id)
        root = artifact_root.rstrip("/")
        if source.rstrip("/") == root:
            return run_id, artifact_root, ""
        if not source.startswith(root + "/"):
            raise InvalidArgument(
                f"source {source!r} is outside the artifacts of run {run_id} ({root}); "
                f"register a model logged to that run, e.g. runs:/{run_id}/model"
            )
        return run_id, artifact_root, _clean_model_path(source[len(root) + 1 :], source)

    @staticmethod
    def _require_model_files(artifacts: ArtifactRepository, run_id: str, path: str) -> None:
        try:
            names = {info.path.rsplit("/", 1)[-1] for info in artifacts.list(path)}
        except NotFound:
            names = set()
        if not names.intersection(MODEL_MANIFESTS):
            where = f"runs:/{run_id}/{path}" if path else f"runs:/{run_id}"
            raise InvalidArgument(
                f"{where} holds no model ({' or '.join(MODEL_MANIFESTS)} is missing); log one "
                "first, e.g. heron.sklearn.log_model(model, name='model'), and register "
                f"runs:/{run_id}/model"
            )

    @staticmethod
    def _signature_summary(artifacts: ArtifactRepository, path: str) -> str:
        manifest = f"{path}/heron-model.yaml" if path else "heron-model.yaml"
        try:
            with artifacts.open_read(manifest) as stream:
                content = yaml.load(stream.read(1_000_000), Loader=_YAML_LOADER)
        except (HeronError, OSError, yaml.YAMLError):
            return ""
        signature = content.get("signature") if isinstance(content, dict) else None
        if not signature:
            return ""
        # Imported here: heron.models loads models through heron.client, which imports this
        # module; and a summary is only needed when a version is registered.
        from heron.models.signature import Signature, summary

        try:
            return summary(Signature.from_dict(signature))[:1000]
        except (HeronError, ValueError, TypeError, KeyError):
            return ""  # a manifest the loader would refuse; registering still works

    def get_version(self, name: str, version: int) -> ModelVersion:
        return self.store.get_version(name, version)

    def search_versions(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        return self.store.search_versions(
            parse_filter(filter_string, MODEL_VERSIONS),
            parse_order_by(order_by, MODEL_VERSIONS),
            view,
            validate_max_results(max_results),
            page_token,
        )

    def update_version(
        self, name: str, version: int, actor: str, *, description: str | None = None
    ) -> ModelVersion:
        return self.store.update_version(
            name, version, self._change(actor), description=validate_description(description)
        )

    def set_version_status(
        self, name: str, version: int, status: ModelVersionStatus, message: str, actor: str
    ) -> ModelVersion:
        return self.store.update_version(
            name, version, self._change(actor), status=status, status_message=message
        )

    def delete_version(self, name: str, version: int, actor: str) -> None:
        model = self.store.get_model(name)
        held = sorted(a for a, v in model.aliases.items() if v == version)
        protected = [a for a in held if a in model.protected_aliases]
        if protected:
            why = (
                f"version {version} of {name!r} holds the protected alias(es) "
                f"{', '.join(protected)}: move them to another version through a transition "
                "request first"
            )
            self._refuse("version.delete", name, version, {"version": version}, why, actor)
        self.store.update_version(
            name, version, self._change(actor), lifecycle=LifecycleStage.DELETED
        )

    def restore_version(self, name: str, version: int, actor: str) -> None:
        self.store.update_version(
            name, version, self._change(actor), lifecycle=LifecycleStage.ACTIVE
        )

    def set_version_tag(self, name: str, version: int, key: str, value: object, actor: str) -> None:
        key = validate_key("tag", key)
        self.store.set_version_tag(
            name, version, key, validate_tag_value(key, value), self._change(actor)
        )

    def delete_version_tag(self, name: str, version: int, key: str, actor: str) -> None:
        self.store.set_version_tag(
            name, version, validate_key("tag", key), None, self._change(actor)
        )

    # -- model URIs --------------------------------------------------------------------

    def resolve(self, uri: str | ModelReference) -> ModelVersion:
        """The version a ``models:/`` URI names now (aliases resolve at call time)."""
        reference = parse_model_uri(uri) if isinstance(uri, str) else uri
        found = self.store.find_active_version(
            reference.name, alias=reference.alias, version=reference.version
        )
        if found is not None:
            return found
        # Not found in one query: the slower path below says precisely why (or finds the
        # version, if an alias moved in between).
        model = self.store.get_model(reference.name)
        if model.lifecycle_stage is LifecycleStage.DELETED:
            raise NotFound(f"registered model {reference.name!r} is deleted")
        if reference.alias is not None:
            version = model.aliases.get(reference.alias)
            if version is None:
                known = ", ".join(sorted(model.aliases)) or "none"
                raise NotFound(
                    f"model {reference.name!r} has no alias {reference.alias!r} (aliases: {known})"
                )
            return self.store.get_version(reference.name, version)
        if reference.version is not None:
            found = self.store.get_version(reference.name, reference.version)
            if found.lifecycle_stage is LifecycleStage.DELETED:
                raise NotFound(f"version {reference.version} of {reference.name!r} is deleted")
            return found
        if model.latest_version is None:
            raise NotFound(f"model {reference.name!r} has no versions yet")
        return self.store.get_version(reference.name, model.latest_version)

    def source_uri(self, uri: str) -> str:
        """``runs:/<run_id>/<path>`` of the files behind a ``models:/`` URI."""
        return self.files_uri(self.resolve(uri))

    def files_uri(self, version: ModelVersion) -> str:
        """Where the files of ``version`` are: ``runs:/<run_id>/<path>``, or a logged
        model's location."""
        model_id = _logged_model_id(version.source)
        if model_id is not None:
            # A logged model's files are outside any run: point at them where they are.
            if self.logged_models is None:
                return version.source
            found = self.logged_models.get_logged_model(model_id, allow_deleted=True)
            return found.artifact_location
        if version.run_id is None:
            return version.source
        return f"{RUNS_SCHEME}{version.run_id}/{version.artifact_path}".rstrip("/")

    # -- lineage -----------------------------------------------------------------------

    def lineage(self, target: str) -> LineageGraph:
        """The lineage graph around ``target``: a model URI (``models:/fraud@champion``),
        a run (``runs:/<id>``) or a dataset (``dataset:<digest>`` or
        ``dataset:<name>@<digest>``)."""
        if target.startswith("models:/"):
            return model_lineage(self.store, self.tracking, self.resolve(target))
        if target.startswith(RUNS_SCHEME):
            return run_lineage(self.store, self.tracking, parse_runs_uri(target).run_id)
        if target.startswith("dataset:"):
            name, _, digest = target[len("dataset:") :].rpartition("@")
            return dataset_lineage(self.store, self.tracking, digest, name or None)
        raise InvalidArgument(
            f"cannot trace {target!r}: give models:/<name>/<version>, models:/<name>@<alias>, "
            "runs:/<run_id> or dataset:<digest>"
        )

    def versions_trained_on(self, digest: str, name: str | None = None) -> list[ModelVersion]:
        """Model versions registered from runs that took the dataset ``digest`` as input."""
        runs = sorted({row.run_id for row in self.store.runs_with_dataset(digest, name)})
        return self.store.versions_of_runs(runs)

    # -- aliases and stages ------------------------------------------------------------

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        actor: str,
        *,
        expected_revision: int | None = None,
        reason: str = "",
    ) -> RegisteredModel:
        return self.move_aliases(
            name, {alias: version}, actor, expected_revision=expected_revision, reason=reason
        )

    def delete_alias(
        self, name: str, alias: str, actor: str, *, reason: str = ""
    ) -> RegisteredModel:
        return self.move_aliases(name, {alias: None}, actor, reason=reason)

    def move_aliases(
        self,
        name: str,
        targets: Mapping[str, int | None],
        actor: str,
        *,
        expected_revision: int | None = None,
        reason: str = "",
    ) -> RegisteredModel:
        """Point several aliases (None removes one) in one atomic change: all or nothing."""
        if not targets:
            raise InvalidArgument("say which aliases to move, e.g. {'champion': 3}")
        moves: list[LabelChange] = [
            SetAlias(validate_alias(a), v) if v is not None else RemoveAlias(validate_alias(a))
            for a, v in targets.items()
        ]
        attempted = dict(targets)
        model = self.store.get_model(name)
        protected = [a for a in targets if a in model.protected_aliases]
        if protected:
            why = (
                f"alias(es) {', '.join(protected)} of {name!r} are protected: ask for the move "
                f"with request_transition({name!r}, <version>, to={protected[0]!r}) and have "
                "an approver accept it"
            )
            self._refuse("alias.set", name, None, attempted, why, actor, reason)
        return self._move("alias.set", name, moves, actor, attempted, expected_revision, reason)

    def transition_stage(
        self,
        name: str,
        version: int,
        stage: str | Stage,
        actor: str,
        *,
        archive_existing: bool = False,
        reason: str = "",
    ) -> ModelVersion:
        target = stage if isinstance(stage, Stage) else _parse_stage(stage)
        model = self.store.get_model(name)
        label = STAGE_PREFIX + target.value
        attempted = {"version": version, "stage": target.value}
        if label in model.protected_aliases:
            why = (
                f"stage {target.value} of {name!r} is protected: ask for it with "
                f"request_transition({name!r}, {version}, to={target.value!r})"
            )
            self._refuse("stage.set", name, version, attempted, why, actor, reason)
        moves = [SetStage(version, target, archive_existing)]
        self._move("stage.set", name, moves, actor, attempted, None, reason)
        return self.store.get_version(name, version)

    def _move(
        self,
        action: str,
        name: str,
        moves: Sequence[LabelChange],
        actor: str,
        attempted: Mapping[str, object],
        expected_revision: int | None,
        reason: str,
    ) -> RegisteredModel:
        try:
            return self.store.move_labels(
                name, moves, self._change(actor, reason), expected_revision
            )
        except Conflict as exc:
            # The losing side of a concurrent move is part of the story: keep it.
            self.store.record_refusal(
                action, name, None, attempted, str(exc), self._change(actor, reason)
            )
            raise

    # -- transition requests -----------------------------------------------------------

    def request_transition(
        self, name: str, version: int, to: str, actor: str, *, comment: str = ""
    ) -> TransitionRequest:
        target = parse_target(to)
        request = self.store.create_request(
            name, version, target, validate_description(comment), self._change(actor)
        )
        mv = self.store.get_version(name, version)
        for reviewer in self.reviewers:
            decision = reviewer.review(request, mv)
            if decision is not None:
                status = RequestStatus.APPROVED if decision.approve else RequestStatus.REJECTED
                moves = [_move_for(request)] if decision.approve else []
                return self.store.resolve_request(
                    request.id,
                    status,
                    decision.comment,
                    self._change(f"reviewer:{reviewer.name}"),
                    moves,
                )
        return request

    def approve(
        self, name: str, request_id: int, actor: str, *, comment: str = ""
    ) -> TransitionRequest:
        request = self._open_request(name, request_id)
        self._require_role(actor, Role.APPROVER, "request.approve", name, request.version)
        model = self.store.get_model(name)
        if request.requested_by == actor and not model.allow_self_approval:
            why = (
                f"{actor} opened request {request_id} and the policy of {name!r} forbids "
                "approving one's own request: ask another approver"
            )
            self._refuse(
                "request.approve", name, request.version, {"request": request_id}, why, actor
            )
        return self.store.resolve_request(
            request_id,
            RequestStatus.APPROVED,
            validate_description(comment),
            self._change(actor),
            [_move_for(request)],
        )

    def reject(
        self, name: str, request_id: int, actor: str, *, comment: str = ""
    ) -> TransitionRequest:
        request = self._open_request(name, request_id)
        self._require_role(actor, Role.APPROVER, "request.reject", name, request.version)
        return self.store.resolve_request(
            request_id, RequestStatus.REJECTED, validate_description(comment), self._change(actor)
        )

    def cancel(
        self, name: str, request_id: int, actor: str, *, comment: str = ""
    ) -> TransitionRequest:
        request = self._open_request(name, request_id)
        if request.requested_by != actor and Role.ADMIN not in self.store.roles_of(actor):
            why = f"only {request.requested_by} (who opened it) or an admin can cancel it"
            self._refuse(
                "request.cancel", name, request.version, {"request": request_id}, why, actor
            )
        return self.store.resolve_request(
            request_id, RequestStatus.CANCELLED, validate_description(comment), self._change(actor)
        )

    def get_request(self, request_id: int) -> TransitionRequest:
        return self.store.get_request(request_id)

    def list_requests(
        self, name: str | None = None, status: RequestStatus | str | None = None
    ) -> list[TransitionRequest]:
        if isinstance(status, str):
            try:
                status = RequestStatus(status.upper())
            except ValueError as exc:
                valid = ", ".join(s.value.lower() for s in RequestStatus)
                raise InvalidArgument(f"unknown request status {status!r}: use {valid}") from exc
        if name is not None:
            self.store.get_model(name)
        return self.store.list_requests(name, status)

    def _open_request(self, name: str, request_id: int) -> TransitionRequest:
        request = self.store.get_request(request_id)
        if request.name != name:
            raise NotFound(f"model {name!r} has no transition request {request_id}")
        if request.status is not RequestStatus.OPEN:
            raise Conflict(f"transition request {request_id} is already {request.status.value}")
        return request

    # -- audit and roles ---------------------------------------------------------------

    def history(
        self, name: str | None = None, after_id: int = 0, limit: int = 1000
    ) -> list[AuditEvent]:
        return self.store.audit_events(name, after_id, limit)

    def grant_role(self, user: str, role: Role | str, actor: str) -> None:
        self._set_role(user, role, actor, granted=True)

    def revoke_role(self, user: str, role: Role | str, actor: str) -> None:
        self._set_role(user, role, actor, granted=False)

    def roles_of(self, user: str) -> set[Role]:
        return self.store.roles_of(user)

    def _set_role(self, user: str, role: Role | str, actor: str, *, granted: bool) -> None:
        parsed = _parse_role(role)
        if not isinstance(user, str) or not user.strip():
            raise InvalidArgument("name the user to grant a role to")
        # Bootstrap: the first admin of a fresh registry may appoint themselves.
        bootstrap = (
            granted and parsed is Role.ADMIN and user == actor and not self.store.has_admin()
        )
        if not bootstrap:
            self._require_role(actor, Role.ADMIN, "role.grant" if granted else "role.revoke", None)
        self.store.set_role(user, parsed, granted, self._change(actor))

    def _require_role(
        self, actor: str, role: Role, action: str, name: str | None, version: int | None = None
    ) -> None:
        roles = self.store.roles_of(actor)
        if role in roles or Role.ADMIN in roles:
            return
        why = f"{actor} does not have the {role.value} role; an admin can grant it"
        self._refuse(action, name, version, {"actor": actor}, why, actor)

    def _refuse(
        self,
        action: str,
        name: str | None,
        version: int | None,
        attempted: Mapping[str, object],
        why: str,
        actor: str,
        reason: str = "",
    ) -> None:
        self.store.record_refusal(
            action, name, version, attempted, why, self._change(actor, reason)
        )
        raise PermissionDenied(why)


def _logged_model_id(source: str) -> str | None:
    """``m-...`` for a ``models:/<model_id>`` source (MLflow 3's logged models)."""
    rest = source.removeprefix(MODELS_SCHEME).strip("/") if source.startswith(MODELS_SCHEME) else ""
    return rest if is_logged_model_id(rest) else None


def _move_for(request: TransitionRequest) -> LabelChange:
    stage = target_stage(request.target)
    if stage is not None:
        return SetStage(request.version, stage, archive_existing=stage is Stage.PRODUCTION)
    return SetAlias(request.target, request.version)


def _parse_stage(text: str) -> Stage:
    try:
        return Stage.parse(text)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from exc


def _parse_role(role: Role | str) -> Role:
    if isinstance(role, Role):
        return role
    try:
        return Role(role.lower())
    except ValueError as exc:
        valid = ", ".join(r.value for r in Role)
        raise InvalidArgument(f"unknown role {role!r}: use {valid}") from exc


def _clean_tags(tags: Mapping[str, object] | None) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key, value in (tags or {}).items():
        checked = validate_key("tag", key)
        clean[checked] = validate_tag_value(checked, value)
    return clean


def _clean_model_path(path: str, source: str) -> str:
    try:
        return clean_artifact_path(path)
    except InvalidArgument as exc:
        raise InvalidArgument(
            f"source {source!r} points outside the run's artifacts: {exc}"
        ) from exc
