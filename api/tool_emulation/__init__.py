"""Tool calling emulated through the prompt: one engine shared by chat, Responses and Anthropic Messages.

1min.ai has no native tool calling. Each endpoint turns its own request shape into a `ToolSpec`
(spec.py) and its history into OpenAI-style chat messages; the engine writes the tools and the
calling convention into the prompt (prompt.py), recognises calls in the reply in the shapes models
really write (parse.py), validates their arguments against the tool's schema (validate.py), holds back
only a possible call while streaming (sniff.py), asks once for a repair (api/services/tool_turn.py),
and each endpoint renders the outcome in its own shapes. docs/tool-calling.md describes the whole.
"""
