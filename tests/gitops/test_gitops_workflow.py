"""hack/ci-workflow.yaml, run: its jobs' steps and conditions (tests/gitops/actions_runner.py) with the real jsctl
against a server configured with hack/nats-server.conf (plans as the read-only user, applies as the apply
user), a fake `gh` recording its calls (tests/gitops/fake_gh.py) and a fake `pip` (jsctl is the test's)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from actions_runner import Run, load_workflow, run_job
from gitops_helpers import HACK, REPO, js_request

WORKFLOW = load_workflow(HACK / "ci-workflow.yaml")
REPOSITORY = "acme/app"
MARKER = "<!-- jsctl-plan -->"
LIMIT = 65_536
APP_SEED = str(HACK / "seed.txt")

pytestmark = pytest.mark.skipif(shutil.which("jq") is None, reason="the workflow's scripts use jq (as GitHub's do)")


@dataclass
class GitHub:
    """A repository on a fake GitHub: its files at each commit, pull requests, workflow runs, comments."""

    root: Path
    nats_url: str
    commits: dict[str, Path] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bin = self.root / "bin"
        self.bin.mkdir()
        self.state, self.log = self.root / "gh-state.json", self.root / "gh-calls.jsonl"
        self.artifacts = self.root / "artifacts"
        self.state.write_text(json.dumps({"comments": [], "pulls": {}, "runs": []}))
        self.pip_log = self.root / "pip-calls"
        self._tool("gh", f'exec "{sys.executable}" "{Path(__file__).with_name("fake_gh.py")}" "$@"')
        self._tool("pip", f'echo "$*" >> "{self.pip_log}"')

    def _tool(self, name: str, body: str) -> None:
        (self.bin / name).write_text(f"#!/bin/sh\n{body}\n")
        (self.bin / name).chmod(0o755)

    def fake_jsctl(self, markdown: str) -> None:
        """From now on `jsctl` prints ``markdown`` as the plan (and writes the --out file)."""
        (self.root / "plan.md.fake").write_text(markdown)
        self._tool("jsctl", f'echo "{{}}" > plan.json; cat "{self.root / "plan.md.fake"}"')

    def commit(self, sha: str, edit=None) -> str:
        """A commit whose files are the repository's manifests, edited by ``edit(directory)``."""
        tree = self.root / "commits" / sha
        tree.mkdir(parents=True)
        for name in ("streams.yaml", "consumers.yaml"):
            shutil.copy(REPO / name, tree / name)
        if edit:
            edit(tree)
        self.commits[sha] = tree
        return sha

    def merge(self, pr_head: str, merge_sha: str) -> str:
        self.commits[merge_sha] = self.commits[pr_head]
        state = self.gh_state()
        state["pulls"][merge_sha] = [{"number": 7, "head": {"sha": pr_head}}]
        self.state.write_text(json.dumps(state))
        return merge_sha

    def gh_state(self) -> dict:
        return json.loads(self.state.read_text())

    def gh_calls(self) -> list[list[str]]:
        return [json.loads(line)["argv"] for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def trigger(self, event: str, sha: str, *, pr: int | None = None, inputs: dict | None = None,
                secrets: dict | None = None) -> dict[str, Run]:
        """One workflow run for ``event`` at commit ``sha``: every job, each in a fresh workspace."""
        run_id = 5000 + len(self.runs)
        context = {
            "github": {"event_name": event, "repository": REPOSITORY, "sha": sha, "run_id": run_id,
                       "server_url": "https://github.com", "token": "ghs_fake", "ref": "refs/heads/main",
                       "workspace": "", "event": {"pull_request": {"number": pr, "head": {"sha": sha}} if pr else {}}},
            "vars": {"NATS_URL": self.nats_url},
            "secrets": {"NATS_PLAN_SEED": (HACK / "plan-seed.txt").read_text(),
                        "NATS_APPLY_SEED": (HACK / "apply-seed.txt").read_text(), **(secrets or {})},
            "inputs": inputs or {},
        }
        machine_env = {**os.environ, "FAKE_GH_STATE": str(self.state), "FAKE_GH_LOG": str(self.log),
                       "FAKE_GH_ARTIFACTS": str(self.artifacts),
                       "PATH": f"{self.bin}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        results = {}
        for job in WORKFLOW["jobs"]:
            workspace = self.root / f"run-{run_id}-{job}" / "workspace"
            shutil.copytree(self.commits[sha], workspace)
            context["github"]["workspace"] = str(workspace)
            context["steps"] = {}
            results[job] = run_job(WORKFLOW, job, Run(run_id, context, self.artifacts), workspace, machine_env)
        conclusion = "failure" if any(r.result == "failure" for r in results.values()) else "success"
        state = self.gh_state()
        state["runs"].append({"databaseId": run_id, "headSha": sha, "workflowName": WORKFLOW["name"],
                              "conclusion": conclusion})
        self.state.write_text(json.dumps(state))
        self.runs.append(next(iter(results.values())))
        return results


@pytest.fixture
def github(tmp_path, nats_server_factory) -> GitHub:
    server = nats_server_factory(config_file=HACK / "nats-server.conf")
    return GitHub(tmp_path, server.url)


def comments(github: GitHub) -> list[dict]:
    return github.gh_state()["comments"]


def bot_comment(github: GitHub) -> str:
    (comment,) = [c for c in comments(github) if c["user"]["login"] == "github-actions[bot]"]
    return comment["body"]


def api_calls(github: GitHub) -> list[tuple[str, str]]:
    """(method, path) of every `gh api` call so far."""
    calls = []
    for argv in github.gh_calls():
        if argv[0] == "api":
            method = argv[argv.index("--method") + 1] if "--method" in argv else "GET"
            calls.append((method, next(a for a in argv[1:] if a.startswith("repos/"))))
    return calls


def live_stream(github: GitHub, name: str) -> dict:
    return js_request(github.nats_url, f"STREAM.INFO.{name}", nkey=APP_SEED)["config"]


def test_every_install_pins_the_version_and_no_script_expands_an_expression():
    assert WORKFLOW["env"]["JSCTL_VERSION"] == version("jsctl")
    runs = [step["run"] for job in WORKFLOW["jobs"].values() for step in job["steps"] if "run" in step]
    installs = [run for run in runs if "pip install" in run]
    assert installs == ['pip install "jsctl[embedded]==$JSCTL_VERSION"', 'pip install "jsctl==$JSCTL_VERSION"']
    assert not [run for run in runs if "${{" in run]  # values reach scripts through env, never pasted into code


def test_a_pull_request_gets_one_comment_edited_on_each_push_and_its_plan_is_applied_on_merge(github):
    head = github.commit("a1")
    # a person quoting the marker is never edited
    github.state.write_text(json.dumps({**github.gh_state(), "comments": [
        {"id": 1, "issue": 7, "user": {"login": "alice"}, "body": f"{MARKER}\nquoted"}]}))

    runs = github.trigger("pull_request", head, pr=7)
    assert runs["plan"].result == "success" and runs["apply"].result == "skipped", runs["plan"].logs
    assert github.pip_log.read_text() == "install jsctl[embedded]==0.1.0\n"
    assert api_calls(github) == [("GET", f"repos/{REPOSITORY}/issues/7/comments"),
                                 ("POST", f"repos/{REPOSITORY}/issues/7/comments")]
    first = bot_comment(github)
    assert first.startswith(f"{MARKER}\n### jsctl plan") and "Plan: 3 to create." in first
    assert (github.artifacts / str(runs["plan"].run_id) / "jsctl-plan" / "plan.json").is_file()

    def bigger_stream(tree: Path) -> None:
        streams = tree / "streams.yaml"
        streams.write_text(streams.read_text().replace("max_bytes: -1", "max_bytes: 1GiB"))

    head = github.commit("b2", bigger_stream)
    runs = github.trigger("pull_request", head, pr=7)
    assert runs["plan"].result == "success"
    (comment_id,) = [c["id"] for c in comments(github) if c["user"]["login"] == "github-actions[bot]"]
    assert api_calls(github)[2:] == [("GET", f"repos/{REPOSITORY}/issues/7/comments"),
                                     ("PATCH", f"repos/{REPOSITORY}/issues/comments/{comment_id}")]
    assert len(comments(github)) == 2 and bot_comment(github) != first
    assert comments(github)[0]["body"] == f"{MARKER}\nquoted"

    merged = github.merge(head, "m3")
    runs = github.trigger("push", merged)
    assert runs["plan"].result == "skipped" and runs["apply"].result == "success", runs["apply"].logs
    assert "Apply complete" in runs["apply"].logs["Apply exactly that plan"]
    assert github.pip_log.read_text().splitlines()[-1] == "install jsctl==0.1.0"
    assert live_stream(github, "USER_TXN")["max_bytes"] == 1024**3
    assert ["run", "download", str(github.runs[1].run_id), "--name", "jsctl-plan"] in github.gh_calls()


def test_a_failed_plan_posts_its_error(github):
    head = github.commit("a1")
    github.nats_url = "nats://127.0.0.1:1"
    runs = github.trigger("pull_request", head, pr=7)
    assert runs["plan"].result == "failure"
    assert runs["plan"].outcomes["Keep the plan for the apply"] == "skipped"
    body = bot_comment(github)
    assert body.startswith(f"{MARKER}\n### jsctl plan failed\n\n`jsctl plan` exited with code 1:")
    assert "jsctl: error: cannot connect to NATS at nats://127.0.0.1:1" in body
    assert f"https://github.com/{REPOSITORY}/actions/runs/{runs['plan'].run_id}" in body
    assert not (github.artifacts / str(runs["plan"].run_id)).exists()


def test_a_plan_longer_than_a_comment_is_cut_at_a_line_with_a_link_to_the_whole_plan(github):
    def many_streams(tree: Path) -> None:
        streams = [{"name": f"S{i:04d}", "subjects": [f"s{i}.>"], "description": "transfers " * 6} for i in range(300)]
        (tree / "streams.yaml").write_text(yaml.safe_dump({"streams": streams}))
        (tree / "consumers.yaml").write_text("consumers: []\n")

    runs = github.trigger("pull_request", github.commit("a1", many_streams), pr=7)
    assert runs["plan"].result == "success", runs["plan"].logs
    whole = (github.artifacts / str(runs["plan"].run_id) / "jsctl-plan" / "plan.md").read_text()
    assert len(whole) > LIMIT
    body = bot_comment(github)
    link = f"https://github.com/{REPOSITORY}/actions/runs/{runs['plan'].run_id}/artifacts/"
    kept, note = body.split("\n\n**This plan is longer")
    assert len(body) <= LIMIT and f"{MARKER}\n{whole}".startswith(kept.removesuffix("\n```\n\n</details>"))
    assert note.rsplit("The whole plan: ", 1)[1].startswith(link)
    assert kept.count("```") % 2 == 0 and kept.count("<details>") == kept.count("</details>")  # the note is shown


@pytest.mark.parametrize("fence_open_at_the_cut", [False, True])
def test_the_cut_counts_characters_not_bytes_and_closes_a_code_block(github, fence_open_at_the_cut):
    line = "ü → ✓ " * 10  # 60 characters, 130 bytes
    markdown = "### jsctl plan\n\n" + ("```diff\n" if fence_open_at_the_cut else "") + (line + "\n") * 2000
    github.fake_jsctl(markdown)
    runs = github.trigger("pull_request", github.commit("a1"), pr=7)
    assert runs["plan"].result == "success", runs["plan"].logs
    body = bot_comment(github)
    assert LIMIT - 200 < len(body) <= LIMIT  # in characters: a cut by bytes would keep less than half
    kept = body.split("\n\n**This plan is longer")[0]
    assert kept.endswith("\n```" if fence_open_at_the_cut else line)
    assert body.count("```") % 2 == 0


def test_a_stale_plan_is_refused_on_merge_then_planned_and_applied_by_hand(github):
    head = github.commit("a1")
    assert github.trigger("pull_request", head, pr=7)["plan"].result == "success"
    assert github.trigger("push", github.merge(head, "m1"))["apply"].result == "success"

    def bigger_stream(tree: Path) -> None:
        streams = tree / "streams.yaml"
        streams.write_text(streams.read_text().replace("max_bytes: -1", "max_bytes: 1GiB"))

    head = github.commit("b2", bigger_stream)
    assert github.trigger("pull_request", head, pr=8)["plan"].result == "success"
    live = live_stream(github, "USER_TXN")  # meanwhile, someone changes the stream by hand
    js_request(github.nats_url, "STREAM.UPDATE.USER_TXN", {**live, "max_msgs": 777}, nkey=APP_SEED)

    refused = github.trigger("push", github.merge(head, "m2"))["apply"]
    assert refused.result == "failure" and "is stale" in refused.logs["Apply exactly that plan"]
    assert "::error::jsctl refused the plan" in refused.logs["Apply exactly that plan"]
    assert "Run this workflow by hand with apply_run empty" in refused.summary
    assert live_stream(github, "USER_TXN")["max_bytes"] == -1

    calls_before = len(github.gh_calls())
    replanned = github.trigger("workflow_dispatch", "m2", inputs={"apply_run": "", "allow_destructive": False})
    assert replanned["plan"].result == "success" and replanned["apply"].result == "skipped"
    assert "stream/USER_TXN" in replanned["plan"].summary
    assert f"run this workflow again with apply_run = {replanned['plan'].run_id}" in replanned["plan"].summary
    assert len(github.gh_calls()) == calls_before  # no pull request to comment on

    applied = github.trigger("workflow_dispatch", "m2",
                             inputs={"apply_run": str(replanned["plan"].run_id), "allow_destructive": False})
    assert applied["plan"].result == "skipped" and applied["apply"].result == "success", applied["apply"].logs
    assert live_stream(github, "USER_TXN")["max_bytes"] == 1024**3


def test_a_destructive_plan_applies_only_by_hand_with_allow_destructive(github):
    def memory_storage(tree: Path) -> None:
        streams = tree / "streams.yaml"
        streams.write_text(streams.read_text().replace("storage: file", "storage: memory"))

    base = github.commit("a1")
    github.trigger("pull_request", base, pr=7)
    assert github.trigger("push", github.merge(base, "m1"))["apply"].result == "success"
    head = github.commit("b2", memory_storage)
    plan_run = github.trigger("pull_request", head, pr=8)["plan"]
    refused = github.trigger("push", github.merge(head, "m2"))["apply"]
    assert refused.result == "failure" and "--allow-destructive" in refused.logs["Apply exactly that plan"]

    applied = github.trigger("workflow_dispatch", "m2",
                             inputs={"apply_run": str(plan_run.run_id), "allow_destructive": True})
    assert applied["apply"].result == "success", applied["apply"].logs
    assert live_stream(github, "USER_TXN")["storage"] == "memory"


def test_a_push_without_a_reviewed_plan_says_what_to_do(github):
    runs = github.trigger("push", github.commit("c1"))
    apply = runs["apply"]
    assert apply.result == "failure"
    download = "Download the plan reviewed in the pull request (or the run named by hand)"
    assert apply.outcomes[download] == "failure" and apply.outcomes["Apply exactly that plan"] == "skipped"
    assert "::error::no reviewed plan for c1" in apply.logs[download]
    assert "Run this workflow by hand with apply_run empty" in apply.summary
