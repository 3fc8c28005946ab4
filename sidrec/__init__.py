"""sidrec: generative recommendation with semantic IDs.

A compact library: datasets -> item embeddings -> codebook tokenizer ->
token keywords -> aligned LLM -> constrained generation -> cache -> evaluation.
It knows nothing of the app that sits on top of it.
"""

__version__ = "0.1.0"
