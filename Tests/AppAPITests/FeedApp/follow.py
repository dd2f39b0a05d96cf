"""An app that follows one directory's change feed, as a product's backend would.

usage: follow.py BASE_URL API_KEY DIRECTORY_ID STATE_FILE

It keeps its state (the last cursor and every event id it has taken) in STATE_FILE,
replaced atomically after each page, so it can be killed at any moment (kill -9) and
started again: it resumes from the saved cursor. It runs until killed.
"""
import json
import os
import sys
import urllib.request

base, key, directory, state_file = sys.argv[1:5]
try:
    with open(state_file) as f:
        state = json.load(f)
except FileNotFoundError:
    state = {"cursor": None, "ids": [], "events": []}

while True:
    url = f"{base}/api/v1/dsync/changes?directoryId={directory}&wait=5&limit=7"
    if state["cursor"]:
        url += "&after=" + state["cursor"]
    req = urllib.request.Request(url, headers={"Authorization": "Api-Key " + key})
    with urllib.request.urlopen(req, timeout=30) as r:
        answer = json.load(r)
    for e in answer["data"]:
        state["ids"].append(e["id"])
        state["events"].append(e["event"])
    state["cursor"] = answer["cursor"]
    tmp = state_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, state_file)
