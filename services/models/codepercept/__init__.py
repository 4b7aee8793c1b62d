"""CodePercept-mini: a small TokenVL checkpoint trained here for image -> matplotlib code and
image -> caption on the STEM data engine's programs (services/evaluation/synth), by the recipe
`make train-codepercept` (docs/codepercept-mini.md).

``config`` (the model's sizes, the prompts, the serving numbers and the recipe's knobs),
``tokenizer`` (a byte-level BPE fit for code), ``corpus`` (the engine's programs rendered with
their captions), ``data`` (samples: the serving path's tile and prompt, the assistant's tokens as
targets), ``checkpoint`` (the TokenVL upstream layout the existing loader reads), ``train`` (the
loop). torch: training only, never a serving path.
"""
