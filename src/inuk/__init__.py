"""INUK: follow-up of labour-market interventions for young people."""

__version__ = "0.1.0"
