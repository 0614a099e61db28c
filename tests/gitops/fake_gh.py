"""A fake GitHub CLI (`gh`) for the workflow tests: the few calls hack/ci-workflow.yaml makes, answered
from a JSON state file (pull requests' comments, the pull requests of commits, workflow runs) and the
artifacts directory of tests/gitops/actions_runner.py; every call is appended to a log. ``--jq`` runs the real jq.

    FAKE_GH_STATE=state.json FAKE_GH_LOG=calls.jsonl FAKE_GH_ARTIFACTS=dir python fake_gh.py ARGS...
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

BOT = "github-actions[bot]"


def main(argv: list[str]) -> int:
    state_file = Path(os.environ["FAKE_GH_STATE"])
    state = json.loads(state_file.read_text())
    stdin = sys.stdin.read() if "-" in argv else ""
    with open(os.environ["FAKE_GH_LOG"], "a") as log:
        log.write(json.dumps({"argv": argv, "stdin": stdin}) + "\n")
    if argv[:1] == ["api"]:
        answer = api(state, argv[1:], stdin)
    elif argv[:2] == ["run", "list"]:
        answer = run_list(state, argv[2:])
    elif argv[:2] == ["run", "download"]:
        answer = run_download(argv[2:])
    else:
        print(f"fake gh: unknown command {argv}", file=sys.stderr)
        return 1
    state_file.write_text(json.dumps(state))
    if answer is None:
        return 0
    jq = option(argv, "--jq")
    text = json.dumps(answer)
    if jq:
        text = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True, check=True).stdout
    sys.stdout.write(text)
    return 0


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def positional(argv: list[str]) -> list[str]:
    flags_with_values = {"--method", "-X", "--jq", "--input", "--workflow", "--commit", "--status", "--json", "--name"}
    words, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word in flags_with_values:
            skip = True
        elif not word.startswith("-"):
            words.append(word)
    return words


def api(state: dict, argv: list[str], stdin: str):
    method = option(argv, "--method") or option(argv, "-X") or "GET"
    (path,) = positional(argv)
    source = option(argv, "--input")
    body = json.loads(stdin if source == "-" else Path(source).read_text()) if source else {}
    comments = state.setdefault("comments", [])
    if m := re.fullmatch(r"repos/[^/]+/[^/]+/issues/(\d+)/comments", path):
        if method == "GET":
            return [c for c in comments if c["issue"] == int(m[1])]
        assert method == "POST", method
        comment = {"id": 1000 + len(comments), "issue": int(m[1]), "user": {"login": BOT}, "body": body["body"]}
        comments.append(comment)
        return comment
    if m := re.fullmatch(r"repos/[^/]+/[^/]+/issues/comments/(\d+)", path):
        assert method == "PATCH", method
        (comment,) = [c for c in comments if c["id"] == int(m[1])]
        comment["body"] = body["body"]
        return comment
    if m := re.fullmatch(r"repos/[^/]+/[^/]+/commits/(\w+)/pulls", path):
        return state.get("pulls", {}).get(m[1], [])
    raise SystemExit(f"fake gh: unknown API path {method} {path}")


def run_list(state: dict, argv: list[str]):
    runs = [r for r in state.get("runs", []) if r["headSha"] == option(argv, "--commit")
            and r["workflowName"] == option(argv, "--workflow")
            and (option(argv, "--status") is None or r["conclusion"] == option(argv, "--status"))]
    fields = option(argv, "--json").split(",")
    return [{f: r[f] for f in fields} for r in sorted(runs, key=lambda r: -r["databaseId"])]


def run_download(argv: list[str]):
    (run_id,) = positional(argv)
    source = Path(os.environ["FAKE_GH_ARTIFACTS"]) / run_id / option(argv, "--name")
    if not source.is_dir():
        raise SystemExit(f"fake gh: no artifact {option(argv, '--name')} in run {run_id}")
    shutil.copytree(source, Path.cwd(), dirs_exist_ok=True)
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
