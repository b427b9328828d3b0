"""The practice configuration: one YAML file, validated into typed models before anything runs."""

from chartroute.config.loader import ConfigError, ConfigProblem, load_config, load_config_text
from chartroute.config.models import PracticeConfig

__all__ = ["ConfigError", "ConfigProblem", "PracticeConfig", "load_config", "load_config_text"]
