"""procurement: guided risk classification and procurement workflow for generative AI in
Japanese public administration, after the Digital Agency guideline DS-920."""

__version__ = "0.1.0"
