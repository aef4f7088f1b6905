"""`vemu debug`: step through a kernel bundle by bundle, as gdb users expect.

`prompt` holds the commands, `session` the state and running to the next
stop, `locations` what `break`/`until`/`finish` mean, `values` what `print`,
`x` and `set var` read and write, `sources` what the source adds (macros).
"""

from .errors import DebugError
from .locations import Locations
from .prompt import Debugger, debug
from .session import Session
from .sources import for_image, from_assembly

__all__ = ["DebugError", "Debugger", "Locations", "Session", "debug", "for_image",
           "from_assembly"]
