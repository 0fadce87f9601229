"""Templates: canonical messages -> tokens. ms-swift 3.x public names."""
from .base import MaxLengthError, Template
from .constant import ContextType, TemplateType
from .jinja_backend import JinjaTemplate
from .loss_scale import LOSS_SCALE_MAPPING, get_loss_scale, keyword_loss_scale, register_loss_scale
from .meta import Prompt, TemplateMeta
from .register import TEMPLATE_MAPPING, get_template, get_template_meta, register_template
from .tools import TOOLS_PROMPT_MAPPING, register_tools_prompt
from . import families  # noqa: F401  (registers the built-in templates)

from swift.plugin.loader import REGISTRY_VIEWS  # noqa: E402  (so user files are diffed against this registry)
REGISTRY_VIEWS['templates'] = TEMPLATE_MAPPING.keys
