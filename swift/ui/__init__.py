"""Gradio pages: `swift app` (a chat page, app.py) and `swift web-ui` (webui/: forms that build, validate and run
`swift sft|rlhf|export|deploy ...` as subprocesses, runner.py). Nothing here imports swift.pipelines: the pipelines
build engines and hand them in."""
